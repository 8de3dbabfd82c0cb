using System.Globalization;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Platform;

namespace CloudStore.ControlPlane.Recordings;

/// <summary>Checks a metadata batch at the edge, before anything is looked up or stored.</summary>
public static partial class SegmentValidation
{
    public const long MaxObjectBytes = 256L * 1024 * 1024;
    public const int MaxDurationMs = 60_000;

    /// <summary>How far ahead of our clock a segment may claim to start (camera clocks drift).</summary>
    public static readonly TimeSpan MaxClockAhead = TimeSpan.FromMinutes(5);

    public static Validation Check(SegmentBatch batch, DateTimeOffset now)
    {
        var validation = new Validation();
        if (batch.Segments.Count == 0 && batch.InitSegments.Count == 0)
        {
            validation.Add(nameof(batch.Segments), "A batch holds at least one segment or init segment.");
        }

        if (batch.Segments.Count > SegmentBatch.MaxSegments || batch.InitSegments.Count > SegmentBatch.MaxInitSegments)
        {
            validation.Add(nameof(batch.Segments), $"At most {SegmentBatch.MaxSegments} segments and {SegmentBatch.MaxInitSegments} init segments a batch.");
            return validation;
        }

        for (var i = 0; i < batch.InitSegments.Count; i++)
        {
            CheckObject(validation, $"initSegments[{i}]", batch.InitSegments[i], "init/");
        }

        for (var i = 0; i < batch.Segments.Count; i++)
        {
            var segment = batch.Segments[i];
            var field = $"segments[{i}]";
            CheckObject(validation, field + ".media", segment.Media, "segments/");
            if (!IsObjectName(segment.InitObjectName, "init/"))
            {
                validation.Add(field + ".initObjectName", "An object name under init/.");
            }

            if (segment.Sequence < 0)
            {
                validation.Add(field + ".sequence", "Zero or more.");
            }

            if (segment.DurationMs is < 1 or > MaxDurationMs)
            {
                validation.Add(field + ".durationMs", $"From 1 to {MaxDurationMs} ms.");
            }

            if (segment.StartTime < TimeBounds.Earliest || segment.StartTime > now + MaxClockAhead)
            {
                validation.Add(field + ".startTime", "Not a plausible recording time (in the future, or before 2020).");
            }

            if (!CodecPattern().IsMatch(segment.Codec ?? string.Empty))
            {
                validation.Add(field + ".codec", "An RFC 6381 codec string such as avc1.64001f.");
            }

            if (segment.Width is < 16 or > 8192 || segment.Height is < 16 or > 8192)
            {
                validation.Add(field + ".width", "Width and height from 16 to 8192.");
            }
        }

        foreach (var duplicate in batch.Segments.GroupBy(s => s.Sequence).Where(g => g.Count() > 1))
        {
            validation.Add("segments", string.Create(CultureInfo.InvariantCulture, $"Sequence {duplicate.Key} appears more than once."));
        }

        var wrappedKeys = batch.WrappedKeys ?? [];
        if (wrappedKeys.Count > SegmentBatch.MaxWrappedKeys)
        {
            validation.Add("wrappedKeys", $"At most {SegmentBatch.MaxWrappedKeys} wrapped keys a batch.");
            return validation;
        }

        for (var i = 0; i < wrappedKeys.Count; i++)
        {
            var field = $"wrappedKeys[{i}]";
            if (wrappedKeys[i].KeyId == Guid.Empty)
            {
                validation.Add(field + ".keyId", "Required.");
            }

            if (DecodeWrapped(wrappedKeys[i].Wrapped) is null)
            {
                validation.Add(field + ".wrapped", $"Base64 of at most {SegmentBatch.MaxWrappedKeyBytes} bytes.");
            }
        }

        return validation;
    }

    /// <summary>The wrapped key's bytes, or null when not base64 of 1..<see cref="SegmentBatch.MaxWrappedKeyBytes"/> bytes.</summary>
    public static byte[]? DecodeWrapped(string? base64)
    {
        var buffer = new byte[SegmentBatch.MaxWrappedKeyBytes];
        return base64 is { Length: > 0 and <= (SegmentBatch.MaxWrappedKeyBytes + 2) / 3 * 4 } && Convert.TryFromBase64String(base64, buffer, out var written) && written > 0
            ? buffer[..written]
            : null;
    }

    static void CheckObject(Validation validation, string field, StoredObject stored, string prefix)
    {
        if (!IsObjectName(stored.ObjectName, prefix))
        {
            validation.Add(field + ".objectName", $"An object name under {prefix}: letters, digits, '.', '_' and '-', no '..'.");
        }

        if (stored.Size is < 1 or > MaxObjectBytes)
        {
            validation.Add(field + ".size", $"From 1 to {MaxObjectBytes} bytes.");
        }

        if (!HexPattern64().IsMatch(stored.Sha256 ?? string.Empty))
        {
            validation.Add(field + ".sha256", "64 hexadecimal digits.");
        }

        if (!HexPattern32().IsMatch(stored.Iv ?? string.Empty))
        {
            validation.Add(field + ".iv", "32 hexadecimal digits.");
        }

        if (stored.KeyId == Guid.Empty)
        {
            validation.Add(field + ".keyId", "Required.");
        }
    }

    /// <summary>Whether <paramref name="name"/> is a name a camera may create: under keys/, init/ or segments/.</summary>
    public static bool IsCameraObjectName(string? name) => IsObjectName(name, "keys/") || IsObjectName(name, "init/") || IsObjectName(name, "segments/");

    static bool IsObjectName(string? name, string prefix) =>
        name is not null && name.StartsWith(prefix, StringComparison.Ordinal) && !name.Contains("..", StringComparison.Ordinal)
        && ObjectNamePattern().IsMatch(name[prefix.Length..]);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\z")]
    private static partial Regex ObjectNamePattern();

    [GeneratedRegex(@"^[0-9a-fA-F]{64}\z")]
    private static partial Regex HexPattern64();

    [GeneratedRegex(@"^[0-9a-fA-F]{32}\z")]
    private static partial Regex HexPattern32();

    [GeneratedRegex(@"^[A-Za-z0-9]{4}(\.[A-Za-z0-9]{1,12}){0,3}\z")]
    private static partial Regex CodecPattern();
}
