using CloudStore.Hosting;
using Npgsql;
using Xunit;

namespace CloudStore.UnitTests;

public sealed class PostgreSqlConnectionsTests
{
    [Fact]
    public void WithDefaults_NothingSet_CapsThePoolPreparesAndSkipsTheReset()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgreSqlConnections.WithDefaults("Host=db;Database=directory;Username=app;Password=secret"));

        Assert.Equal(PostgreSqlConnections.DefaultMaxPoolSize, tuned.MaxPoolSize);
        Assert.Equal(PostgreSqlConnections.DefaultMaxAutoPrepare, tuned.MaxAutoPrepare);
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal(("db", "directory", "app", "secret"), (tuned.Host, tuned.Database, tuned.Username, tuned.Password));
    }

    [Theory]
    [InlineData("Host=db;Maximum Pool Size=150;Max Auto Prepare=0;No Reset On Close=false")]
    [InlineData("Host=db;maxpoolsize=150;MaxAutoPrepare=0;NoResetOnClose=false")]
    [InlineData("Host=db;MAXIMUM POOL SIZE=150;max auto prepare=0;no reset on close=false")]
    public void WithDefaults_EachSet_KeptAsWritten(string connectionString)
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgreSqlConnections.WithDefaults(connectionString));

        Assert.Equal((150, 0, false), (tuned.MaxPoolSize, tuned.MaxAutoPrepare, tuned.NoResetOnClose));
    }
}
