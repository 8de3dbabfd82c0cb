namespace CloudStore.LocalStack;

/// <summary>Where things are in a checkout: the built hosts, the npm packages, the local state folder.</summary>
public static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration this program was built in; the hosts are taken from the same.</summary>
    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    public static string HostAssembly(string folder, string assemblyName) =>
        Path.Combine(Root, folder, "bin", Configuration, "net10.0", assemblyName + ".dll");

    public static string NodeModules => Path.Combine(Root, "infra", "local", "node_modules");

    /// <summary>State of <c>./cloudstore demo</c> (certificates, databases, blobs), kept between runs; git-ignored.</summary>
    public static string LocalState => Path.Combine(Root, ".local");

    static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "CloudStore.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No CloudStore.sln above {AppContext.BaseDirectory}: run from a CloudStore checkout.");
    }
}
