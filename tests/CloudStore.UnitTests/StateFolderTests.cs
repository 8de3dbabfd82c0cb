using System.Runtime.Versioning;
using CloudStore.LocalStack;
using Xunit;

namespace CloudStore.UnitTests;

/// <summary>The local stack's state folder (directory, key store, private keys, demo secrets) is the owner's only.</summary>
[SupportedOSPlatform("linux")] // file modes are Unix's; the stack runs on Linux
public sealed class StateFolderTests : IDisposable
{
    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    readonly string _root = Directory.CreateTempSubdirectory("cloudstore-state-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void CreateStateFolder_New_Is0700()
    {
        var state = Path.Combine(_root, "checkout", ".local");

        LocalCloud.CreateStateFolder(state);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(state));
    }

    [Fact]
    public void CreateStateFolder_LeftReadableByAnEarlierVersion_Becomes0700()
    {
        var state = Path.Combine(_root, ".local");
        Directory.CreateDirectory(state);
        File.SetUnixFileMode(state, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        LocalCloud.CreateStateFolder(state);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(state));
    }
}
