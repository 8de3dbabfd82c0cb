using Xunit;

namespace CloudStore.Tests.Deployment;

/// <summary>
/// main.bicep compiled once, and its snapshot with the default parameters, shared by the tests of the
/// <see cref="UsesCompiledInfrastructure"/>: both are read-only results of the templates on disk.
/// </summary>
public sealed class CompiledInfrastructure : IAsyncLifetime
{
    ArmTemplate? _template;
    DeploymentSnapshot? _snapshot;

    public ArmTemplate Template => _template ?? throw new InvalidOperationException("Not compiled yet.");

    public DeploymentSnapshot Snapshot => _snapshot ?? throw new InvalidOperationException("No snapshot yet.");

    public async Task InitializeAsync()
    {
        _template = await ArmTemplate.BuildAsync(Bicep.MainFile);
        _snapshot = await DeploymentSnapshot.CreateAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class UsesCompiledInfrastructure : ICollectionFixture<CompiledInfrastructure>
{
    public const string Name = "Compiled infrastructure";
}
