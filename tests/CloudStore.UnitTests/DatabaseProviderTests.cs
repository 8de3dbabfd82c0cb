using CloudStore.ControlPlane.Data;
using Npgsql;
using Xunit;

namespace CloudStore.UnitTests;

public sealed class DatabaseProviderTests
{
    [Fact]
    public void WithPoolLimit_NoPoolSizeGiven_CapsThePool()
    {
        var limited = new NpgsqlConnectionStringBuilder(DatabaseProvider.WithPoolLimit("Host=db;Database=directory;Username=app;Password=secret"));

        Assert.Equal(DatabaseProvider.DefaultMaxPoolSize, limited.MaxPoolSize);
        Assert.Equal(("db", "directory", "app", "secret"), (limited.Host, limited.Database, limited.Username, limited.Password));
    }

    [Theory]
    [InlineData("Host=db;Maximum Pool Size=150")]
    [InlineData("Host=db;maxpoolsize=150")]
    public void WithPoolLimit_PoolSizeGiven_KeptAsWritten(string connectionString)
    {
        Assert.Equal(connectionString, DatabaseProvider.WithPoolLimit(connectionString));
    }
}
