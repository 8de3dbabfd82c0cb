using System.Runtime.Versioning;

// The tests drive Linux tools and files (openssl, /proc, Unix file modes), as CI does.
[assembly: SupportedOSPlatform("linux")]
