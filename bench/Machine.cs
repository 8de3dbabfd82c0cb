using System.Globalization;

namespace CloudStore.Bench;

/// <summary>
/// CPU time from <c>/proc</c>: of one process, of a server and the processes it forked (PostgreSQL serves each
/// connection from a child of the postmaster), and of the whole machine. Clock ticks are 10 ms (USER_HZ 100).
/// </summary>
public static class Machine
{
    /// <summary>User plus system CPU time of a process so far, from <c>/proc/PID/stat</c> (fields 14 and 15); zero once it is gone.</summary>
    public static TimeSpan ProcessCpu(int processId) => Stat(processId) is { } stat ? Ticks(stat.User + stat.System) : TimeSpan.Zero;

    /// <summary>
    /// CPU time of <paramref name="processId"/> and of its children: those running now, and those that have exited
    /// and were waited for (counted in the parent's <c>cutime</c> and <c>cstime</c>, fields 16 and 17).
    /// </summary>
    public static TimeSpan ProcessTreeCpu(int processId)
    {
        if (Stat(processId) is not { } root)
        {
            return TimeSpan.Zero;
        }

        var ticks = root.User + root.System + root.ChildrenUser + root.ChildrenSystem;
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && pid != processId && Stat(pid) is { } child && child.Parent == processId)
            {
                ticks += child.User + child.System;
            }
        }

        return Ticks(ticks);
    }

    /// <summary>Busy and total clock ticks of all cores so far (<c>/proc/stat</c>): the difference of two readings is how busy the machine was.</summary>
    public static (long Busy, long Total) Ticks()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var idle = cpu[3] + cpu[4];
        var total = cpu.Take(8).Sum();
        return (total - idle, total);
    }

    static TimeSpan Ticks(long ticks) => TimeSpan.FromMilliseconds(ticks * 10);

    sealed record ProcessStat(int Parent, long User, long System, long ChildrenUser, long ChildrenSystem);

    static ProcessStat? Stat(int processId)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // Exited between listing and reading.
        }

        // The command name (field 2) is in parentheses and may hold spaces: fields are counted after its closing one.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return new ProcessStat((int)Field(4), Field(14), Field(15), Field(16), Field(17));
    }
}

/// <summary>Where a bench keeps its stack's state while it runs.</summary>
public static class BenchState
{
    /// <summary>
    /// A new temporary folder that others may pass through (0755): run as root, PostgreSQL runs as its own unprivileged
    /// user, and a cluster in a private folder would be put in a stand-in under /var/tmp that deleting the folder leaves
    /// behind. The files in it are the stack's own, secrets 0600 as everywhere (the tests' stack fixture does the same).
    /// </summary>
    public static string CreateFolder(string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        }

        return folder;
    }
}
