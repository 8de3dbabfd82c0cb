using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.Data;

/// <summary>The directory's SQLite file and the folder made for it are the owner's only, whatever the umask.</summary>
public sealed class FileModeTests
{
    const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task Directory_NewSqliteDatabase_FileIs0600_FolderMadeForItIs0700()
    {
        await using var factory = new FunctionsFactory();
        var folder = Path.Combine(factory.Folder, "state", "functions");
        var file = Path.Combine(folder, "directory.db");
        factory.With("Directory:Provider", "sqlite").With("Directory:ConnectionString", $"Data Source={file}");

        await TestTenant.CreateAsync(factory);

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(Path.Combine(factory.Folder, "state")));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(folder));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(file));
        Assert.All(Directory.GetFiles(folder), written => Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(written))); // the -wal and -shm files too
    }
}
