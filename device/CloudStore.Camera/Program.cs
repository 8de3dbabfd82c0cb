using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Device;

// cloudstore-camera enrol  --api https://host/api/ --code CODE --serial SERIAL [--key device-key.pem] [--ca ca.pem]
// cloudstore-camera whoami --api https://host/api/ [--key device-key.pem] [--ca ca.pem]
// The device's state (its id and key) lives beside --key; uploading arrives with the upload path.
var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 1; i + 1 < args.Length; i += 2)
{
    options[args[i]] = args[i + 1];
}

if (args.Length == 0 || !options.TryGetValue("--api", out var api))
{
    Console.Error.WriteLine("usage: cloudstore-camera enrol|whoami --api URL [--code CODE --serial SERIAL] [--key FILE] [--ca FILE]");
    return 2;
}

var keyFile = options.GetValueOrDefault("--key", "device-key.pem");
var stateFile = keyFile + ".device.json";
using var key = DeviceKey.LoadOrCreate(keyFile);
using var http = new HttpClient(TrustedHttp.CreateHandler(options.GetValueOrDefault("--ca"))) { BaseAddress = new Uri(api.TrimEnd('/') + "/") };
var client = new DeviceClient(http, key, TimeProvider.System);
try
{
    switch (args[0])
    {
        case "enrol" when options.TryGetValue("--code", out var code) && options.TryGetValue("--serial", out var serial):
            var enrolled = await client.EnrolAsync(code, serial, CancellationToken.None);
            await File.WriteAllTextAsync(stateFile, JsonSerializer.Serialize(enrolled));
            Console.WriteLine($"Enrolled as device {enrolled.DeviceId} of organisation {enrolled.OrganizationId}.");
            return 0;
        case "whoami":
            var state = JsonSerializer.Deserialize<EnrolDeviceResponse>(await File.ReadAllTextAsync(stateFile))
                ?? throw new InvalidOperationException($"{stateFile} is empty: enrol first.");
            var token = await client.AccessTokenAsync(state.DeviceId, state.AssertionAudience, CancellationToken.None);
            http.DefaultRequestHeaders.Authorization = new("Bearer", token);
            Console.WriteLine(await http.GetStringAsync(new Uri("devices/self", UriKind.Relative)));
            return 0;
        default:
            Console.Error.WriteLine("usage: cloudstore-camera enrol --code CODE --serial SERIAL ... | whoami ...");
            return 2;
    }
}
catch (DeviceRequestRefusedException e)
{
    Console.Error.WriteLine($"Refused ({e.Status}): {e.Message}");
    return 1;
}
catch (HttpRequestException e)
{
    Console.Error.WriteLine($"Could not reach {api}: {e.Message}");
    return 1;
}
