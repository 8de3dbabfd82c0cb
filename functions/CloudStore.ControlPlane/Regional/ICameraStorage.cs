using CloudStore.Hosting;

namespace CloudStore.ControlPlane.Regional;

/// <summary>The region's storage did not answer (down, or unreachable): the request may be retried.</summary>
public sealed class StorageUnavailableException(Exception inner) : DependencyUnavailableException("The region's storage is unavailable.", inner);

/// <summary>
/// A short-lived, create-only grant on one camera's storage: a container SAS (Azure), presigned PUT
/// URLs for named objects (S3 without STS), or temporary S3 credentials scoped to the camera's prefix.
/// </summary>
public sealed record StorageGrant(
    string Kind,
    string? ContainerUrl = null,
    string? SasToken = null,
    IReadOnlyDictionary<string, string>? PutUrls = null,
    string? AccessKeyId = null,
    string? SecretAccessKey = null,
    string? SessionToken = null,
    string? Bucket = null,
    string? Url = null,
    string? Prefix = null);

/// <summary>Where a camera's objects live in a region's storage: its own container, or its own key prefix.</summary>
public static class CameraLayout
{
    /// <summary>Azure container name, and S3 key prefix (with a trailing slash), of the camera.</summary>
    public static string Name(Guid cameraId) => $"cam-{cameraId:N}";
}

/// <summary>
/// One <see cref="ICameraStorage.ListSizesAsync"/> as it goes: takes the listed objects in name order, keeps the named ones'
/// sizes, counts the others and says when to stop.
/// </summary>
public sealed class NameRangeListing(IReadOnlyList<string> names, int maxOthers)
{
    /// <summary>How many objects past the named ones still missing a page asks for: a few unnamed ones, and the first past the range (so that the listing ends there).</summary>
    const int PageSlack = 16;

    readonly HashSet<string> _named = names.ToHashSet(StringComparer.Ordinal);
    int _others;

    public string First => names[0];

    public string Last => names[^1];

    /// <summary>The longest prefix the first and last names share: every name between them (ordinal) starts with it.</summary>
    public string CommonPrefix => First[..First.AsSpan().CommonPrefixLength(Last)];

    public Dictionary<string, long> Sizes { get; } = new(StringComparer.Ordinal);

    /// <summary>How many objects the next page should ask for, at most <paramref name="most"/>: the named ones not found yet, and a few.</summary>
    public int NextPageSize(int most) => Math.Min(most, _named.Count - Sizes.Count + PageSlack);

    /// <summary>Takes the next object listed (in name order); false when the listing should stop (past the range, or too many others).</summary>
    public bool Take(string name, long? size)
    {
        if (string.CompareOrdinal(name, Last) > 0)
        {
            return false;
        }

        if (_named.Contains(name))
        {
            if (size is { } bytes)
            {
                Sizes[name] = bytes;
            }

            return true;
        }

        return ++_others <= maxOthers;
    }
}

/// <summary>
/// One region's object storage as the control plane uses it: it grants cameras create-only access to
/// their own objects, reads object sizes and wrapped keys to index them, deletes what retention
/// has expired, and empties the storage of a deleted camera or organisation. It never reads media.
/// </summary>
public interface ICameraStorage
{
    /// <param name="objectNames">The objects the camera is about to create, where the grant is per object (presigned URLs); ignored otherwise.</param>
    Task<StorageGrant> GrantAsync(Guid cameraId, IReadOnlyList<string> objectNames, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Short-lived read-only URLs for playback, one per object, straight to the bucket.</summary>
    Task<IReadOnlyDictionary<string, string>> ReadUrlsAsync(Guid cameraId, IReadOnlyCollection<string> objectNames, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <returns>The object's size, or null if it does not exist.</returns>
    Task<long?> SizeAsync(Guid cameraId, string objectName, CancellationToken cancellationToken);

    /// <summary>
    /// The sizes of the named objects, read by listing the camera's objects from the first name to the last in name order:
    /// one request for a range of up to a page of objects, where a HEAD per object would take one request each. The listing
    /// stops past the last name, or once it has passed more than <paramref name="maxOthers"/> objects not named, so names
    /// spread far apart cost a bounded listing (the answer then lacks the names past where it stopped).
    /// </summary>
    /// <param name="names">Object names in ordinal order (ASCII, as cameras' names are: the order both storages list in).</param>
    /// <returns>Name and size of each named object listed. A name absent from it may still exist, past where the listing stopped.</returns>
    Task<IReadOnlyDictionary<string, long>> ListSizesAsync(Guid cameraId, IReadOnlyList<string> names, int maxOthers, CancellationToken cancellationToken);

    /// <returns>A small object's bytes (a wrapped key), or null if missing or larger than <paramref name="maxBytes"/>.</returns>
    Task<byte[]?> ReadSmallAsync(Guid cameraId, string objectName, int maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the camera's named objects, in batches. Idempotent: an object (or container) already gone counts
    /// as deleted, so a sweep that crashed after deleting can simply run again.
    /// </summary>
    Task DeleteAsync(Guid cameraId, IReadOnlyCollection<string> objectNames, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="max"/> of the camera's objects whatever their names, indexed or not (an upload
    /// whose index request never came is found too), and the camera's container or prefix itself once it is empty.
    /// For a deleted camera or organisation only: idempotent, and a crash part-way is finished by calling again.
    /// </summary>
    /// <returns>How many objects this call deleted; fewer than <paramref name="max"/> means nothing of the camera remains.</returns>
    Task<int> DeleteAllAsync(Guid cameraId, int max, CancellationToken cancellationToken);
}
