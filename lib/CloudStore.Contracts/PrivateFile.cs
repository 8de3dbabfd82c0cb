namespace CloudStore.Contracts;

/// <summary>Files and folders that hold secrets (private keys, local passwords, databases): the owner's only.</summary>
public static class PrivateFile
{
    /// <summary>rwx for the owner only (0700): what a folder of secrets is made with.</summary>
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>rw for the owner only (0600).</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Makes <paramref name="path"/> and any missing parent with mode 0700. A folder that exists is left as it is: it may
    /// be shared (a database in /var/lib, say), and its owner chose its mode.
    /// </summary>
    public static DirectoryInfo CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return Directory.CreateDirectory(path);
        }

        // Directory.CreateDirectory(path, mode) gives the mode to the last folder only; its parents get the umask's.
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { } parent && !Directory.Exists(parent))
        {
            CreateFolder(parent);
        }

        return Directory.CreateDirectory(full, FolderMode);
    }

    /// <summary>
    /// Makes an empty file with mode 0600 where none exists (an empty file is a new SQLite database: SQLite keeps the
    /// mode, and gives its journal and write-ahead log the database file's). An existing file is left as it is.
    /// </summary>
    public static void CreateEmpty(string path)
    {
        CreateFolder(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        try
        {
            new FileStream(path, options).Dispose();
        }
        catch (IOException) when (File.Exists(path))
        {
            // Made meanwhile by another instance, or there from an earlier run.
        }
    }

    /// <summary>Writes <paramref name="content"/> to a new file with mode 0600, replacing any file there.</summary>
    public static void Write(string path, string content)
    {
        CreateFolder(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.Delete(path);
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        using var writer = new StreamWriter(new FileStream(path, options));
        writer.Write(content);
    }
}
