using System.CommandLine.Invocation;
using CloudStore.Camera;

// cloudstore-camera: the reference camera. `cloudstore-camera --help` lists the commands and
// `cloudstore-camera COMMAND --help` each command's options (README.md, "Enrol a camera", shows a session).
var root = CameraCommands.Root();
var parsed = root.Parse(args);
if (parsed.Action is ParseErrorAction)
{
    // A wrong argument: say what is wrong and where help is, without repeating the whole help text.
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine(error.Message);
    }

    var command = parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ";
    Console.Error.WriteLine($"See 'cloudstore-camera {command}--help'.");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync();
