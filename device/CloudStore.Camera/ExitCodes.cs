namespace CloudStore.Camera;

/// <summary>What cloudstore-camera's exit code tells a script.</summary>
static class ExitCodes
{
    /// <summary>Done (or stopped with Ctrl-C).</summary>
    public const int Success = 0;

    /// <summary>The service refused, could not be reached, or the video source failed.</summary>
    public const int Failed = 1;

    /// <summary>A wrong argument, or a file or folder named on the command line that cannot be used.</summary>
    public const int Usage = 2;
}
