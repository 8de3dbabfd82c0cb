namespace CloudStore.Contracts;

/// <summary>Files that hold secrets (private keys, local passwords): readable and writable by the owner only.</summary>
public static class PrivateFile
{
    /// <summary>Writes <paramref name="content"/> to a new file with mode 0600, replacing any file there.</summary>
    public static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(new FileStream(path, options));
        writer.Write(content);
    }
}
