using System.Collections.Concurrent;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.ControlPlane.Regional;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Recordings;

/// <summary>Why an index batch was refused: the problem's status, title and detail.</summary>
public sealed record IndexRefusal(int Status, string Title, string? Detail = null);

/// <summary>A stored file reported altered: the media segment named (or whose init segment was altered), and when the file was first reported.</summary>
/// <param name="FirstReport">True for the one report that marked the file; false for every later one.</param>
public sealed record AlteredFile(long Sequence, DateTimeOffset Start, DateTimeOffset End, DateTimeOffset FirstReportedAt, bool FirstReport);

/// <summary>
/// The regional index of recordings, and the only code that reads or writes it: indexing what devices
/// uploaded, timelines, the segments of a playlist, the last recording of each camera. Every query is
/// scoped to one camera in one region; the region is the organisation's home region, resolved by the caller.
/// </summary>
public sealed class RecordingIndex(RegionCatalog regions, TimeProvider time)
{
    /// <summary>How many storage size checks (HEAD requests) one batch runs at once.</summary>
    public const int StorageChecksInParallel = 8;

    /// <summary>How many objects the batch does not name a size listing may pass, per object of the batch in the listed folder…</summary>
    public const int ListingAllowancePerObject = 2;

    /// <summary>…plus this many (segments of the range indexed before, or never uploaded).</summary>
    public const int ListingAllowance = 16;

    /// <summary>
    /// Indexes a batch for <paramref name="cameraId"/>. Each object must be in the camera's storage with the
    /// declared size; each data key's wrapped form (from the batch, else from storage) must name the
    /// organisation's key in <paramref name="region"/>. All or nothing; the same segment again counts once;
    /// other content under a used sequence number is a conflict.
    /// </summary>
    /// <returns>The counts, or why the batch was refused (nothing stored).</returns>
    public async Task<(SegmentBatchResponse? Indexed, IndexRefusal? Refused)> IndexAsync(
        Guid organizationId, Guid cameraId, string region, SegmentBatch batch, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var index = regions.OpenIndex(region);
        var storage = regions.Storage(region);
        var sequences = batch.Segments.Select(s => s.Sequence).ToList();
        var existing = await index.Segments.Where(s => s.CameraId == cameraId && sequences.Contains(s.Sequence)).ToDictionaryAsync(s => s.Sequence, cancellationToken);
        var initNames = batch.InitSegments.Select(i => i.ObjectName).ToList();
        // Most batches (a camera keeping up) carry no init segment: nothing to look up then.
        var existingInits = initNames.Count == 0
            ? new Dictionary<string, InitSegmentRow>(StringComparer.Ordinal)
            : await index.InitSegments.Where(i => i.CameraId == cameraId && initNames.Contains(i.ObjectName))
                .ToDictionaryAsync(i => i.ObjectName, StringComparer.Ordinal, cancellationToken);

        if (batch.Segments.FirstOrDefault(s => existing.TryGetValue(s.Sequence, out var row) && !Same(row, s)) is { } changed)
        {
            return (null, new IndexRefusal(StatusCodes.Status409Conflict, "Sequence already indexed with other content", $"Sequence {changed.Sequence} of this camera is indexed with a different object."));
        }

        if (batch.InitSegments.FirstOrDefault(i => existingInits.TryGetValue(i.ObjectName, out var row) && !Same(row, i)) is { } changedInit)
        {
            return (null, new IndexRefusal(StatusCodes.Status409Conflict, "Init segment already indexed with other content", $"{changedInit.ObjectName} is indexed with different content."));
        }

        var knownInits = initNames.ToHashSet(StringComparer.Ordinal);
        var missingInits = batch.Segments.Select(s => s.InitObjectName).Where(n => !knownInits.Contains(n)).Distinct().ToList();
        if (missingInits.Count > 0 && await index.InitSegments.CountAsync(i => i.CameraId == cameraId && missingInits.Contains(i.ObjectName), cancellationToken) != missingInits.Count)
        {
            return (null, new IndexRefusal(StatusCodes.Status400BadRequest, "Unknown init segment", "Register each init segment (initSegments) before or with the segments that use it."));
        }

        var newInits = batch.InitSegments.Where(i => !existingInits.ContainsKey(i.ObjectName)).ToList();
        var newSegments = batch.Segments.Where(s => !existing.ContainsKey(s.Sequence)).ToList();
        if (await FirstNotStoredAsync(storage, cameraId, [.. newInits, .. newSegments.Select(s => s.Media)], cancellationToken) is { } notStored)
        {
            return (null, new IndexRefusal(StatusCodes.Status400BadRequest, "Object not stored as declared", $"{notStored} is missing from the camera's storage or has another size."));
        }

        var keyIds = newInits.Select(i => i.KeyId).Concat(newSegments.Select(s => s.Media.KeyId)).Distinct().ToList();
        var knownKeys = await index.WrappedKeys.Where(k => keyIds.Contains(k.KeyId)).ToListAsync(cancellationToken);
        if (knownKeys.Any(k => k.CameraId != cameraId))
        {
            return (null, new IndexRefusal(StatusCodes.Status409Conflict, "Data key belongs to another camera"));
        }

        var sent = (batch.WrappedKeys ?? []).GroupBy(k => k.KeyId).ToDictionary(g => g.Key, g => SegmentValidation.DecodeWrapped(g.First().Wrapped));
        var newKeys = new List<WrappedKeyRow>();
        foreach (var keyId in keyIds.Where(id => knownKeys.All(k => k.KeyId != id)))
        {
            var bytes = sent.GetValueOrDefault(keyId) ?? await storage.ReadSmallAsync(cameraId, WrappedKey.ObjectName(keyId), SegmentBatch.MaxWrappedKeyBytes, cancellationToken);
            if (bytes is null)
            {
                return (null, new IndexRefusal(StatusCodes.Status400BadRequest, "Wrapped key not stored", $"Send it in wrappedKeys, or upload {WrappedKey.ObjectName(keyId)} before indexing segments encrypted with that key."));
            }

            if (!TryReadKeyName(bytes, out var name) || name.OrganizationId != organizationId || name.Region != region)
            {
                return (null, new IndexRefusal(StatusCodes.Status400BadRequest, "Wrapped key not usable", "The wrapped key is malformed or not wrapped under the organisation's key for its region."));
            }

            newKeys.Add(new WrappedKeyRow { KeyId = keyId, OrganizationId = organizationId, CameraId = cameraId, KeyEncryptionKeyId = name.ToString(), Wrapped = bytes, IndexedAt = now });
        }

        index.WrappedKeys.AddRange(newKeys);
        index.InitSegments.AddRange(newInits.Select(i => new InitSegmentRow
        {
            CameraId = cameraId,
            OrganizationId = organizationId,
            ObjectName = i.ObjectName,
            Size = i.Size,
            Sha256 = Convert.FromHexString(i.Sha256),
            KeyId = i.KeyId,
            Iv = Convert.FromHexString(i.Iv),
            IndexedAt = now,
        }));
        index.Segments.AddRange(newSegments.Select(s => new SegmentRow
        {
            OrganizationId = organizationId,
            CameraId = cameraId,
            Sequence = s.Sequence,
            StartTime = s.StartTime,
            DurationMs = s.DurationMs,
            ObjectName = s.Media.ObjectName,
            Size = s.Media.Size,
            Sha256 = Convert.FromHexString(s.Media.Sha256),
            KeyId = s.Media.KeyId,
            Iv = Convert.FromHexString(s.Media.Iv),
            InitObjectName = s.InitObjectName,
            Codec = s.Codec,
            Width = s.Width,
            Height = s.Height,
            IndexedAt = now,
        }));
        try
        {
            await index.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another request indexed some of the same rows first. The batch changed nothing; a retry
            // sees those rows and either counts them (same content) or answers 409.
            return (null, new IndexRefusal(StatusCodes.Status409Conflict, "Indexed concurrently", "Some of these segments were indexed by another request; retry the batch."));
        }

        var indexed = newSegments.Count + newInits.Count;
        return (new SegmentBatchResponse(indexed, batch.Segments.Count + batch.InitSegments.Count - indexed), null);
    }

    /// <summary>
    /// The first object (in batch order) whose stored size is not the declared one. The objects of one folder (segments/,
    /// init/) are listed together, one range of names (<see cref="ICameraStorage.ListSizesAsync"/>), since a camera's names in
    /// a folder sort in recording order: a batch of 200 segments costs one listing, not 200 HEADs. The listing may pass
    /// <see cref="ListingAllowancePerObject"/> objects per object of the folder (plus <see cref="ListingAllowance"/>) that the
    /// batch does not name, so a batch of names spread far apart costs one bounded listing, not one of the whole range.
    /// What it did not find (a missing object, an object past where it stopped, an object alone in its folder) is checked
    /// with a HEAD each, <see cref="StorageChecksInParallel"/> at a time.
    /// </summary>
    static async Task<string?> FirstNotStoredAsync(ICameraStorage storage, Guid cameraId, IReadOnlyList<StoredObject> objects, CancellationToken cancellationToken)
    {
        var sizes = new ConcurrentDictionary<string, long?>(StringComparer.Ordinal);
        var names = objects.Select(o => o.ObjectName).Distinct(StringComparer.Ordinal).ToList();
        foreach (var folder in names.GroupBy(n => n[..(n.LastIndexOf('/') + 1)], StringComparer.Ordinal).Where(f => f.Count() > 1))
        {
            var range = folder.Order(StringComparer.Ordinal).ToList();
            foreach (var (name, size) in await storage.ListSizesAsync(cameraId, range, (ListingAllowancePerObject * range.Count) + ListingAllowance, cancellationToken))
            {
                sizes[name] = size;
            }
        }

        await Parallel.ForEachAsync(names.Where(n => !sizes.ContainsKey(n)).ToList(),
            new ParallelOptions { MaxDegreeOfParallelism = StorageChecksInParallel, CancellationToken = cancellationToken },
            async (name, token) => sizes[name] = await storage.SizeAsync(cameraId, name, token));
        return objects.FirstOrDefault(o => sizes[o.ObjectName] != o.Size)?.ObjectName;
    }

    /// <summary>
    /// The recorded spans of a camera in a range, merged inside the database (window functions, SQLite 3.25+
    /// and PostgreSQL alike), so a timeline of months reads a few rows, not hundreds of thousands.
    /// </summary>
    public async Task<IReadOnlyList<RecordedSpan>> SpansAsync(string region, Guid cameraId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        long start = from.ToUnixTimeMilliseconds(), end = to.ToUnixTimeMilliseconds(), tolerance = (long)HlsPlaylist.GapTolerance.TotalMilliseconds;

        // Identifiers quoted and values as parameters (EF binds each in the database's own type: the camera id is
        // TEXT in SQLite and uuid in PostgreSQL), so the same text runs on both.
        var spans = await index.Database.SqlQuery<SpanRow>(
            $"""
            WITH ordered AS (
              SELECT "StartTime" AS s, "StartTime" + "DurationMs" AS e,
                     LAG("StartTime" + "DurationMs") OVER (ORDER BY "StartTime") AS previous_end
              FROM "Segments"
              WHERE "CameraId" = {cameraId} AND "StartTime" < {end} AND "StartTime" + "DurationMs" > {start}),
            marked AS (
              SELECT s, e, SUM(CASE WHEN previous_end IS NULL OR s - previous_end > {tolerance} THEN 1 ELSE 0 END)
                     OVER (ORDER BY s ROWS UNBOUNDED PRECEDING) AS span
              FROM ordered)
            SELECT MIN(s) AS "First", MAX(e) AS "Last", COUNT(*) AS "Segments" FROM marked GROUP BY span ORDER BY 1
            """).ToListAsync(cancellationToken);
        return [.. spans.Select(span => new RecordedSpan(
            DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(span.First, start)),
            DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(span.Last, end)),
            (int)span.Segments))];
    }

    /// <summary>One row of <see cref="SpansAsync"/>'s query: a span's first start and last end (Unix ms) and its segment count.</summary>
    sealed class SpanRow
    {
        public long First { get; set; }

        public long Last { get; set; }

        public long Segments { get; set; }
    }

    /// <summary>
    /// The playable segments of a camera overlapping a range, in time order, with read URLs valid for
    /// <paramref name="urlLifetime"/>, key URIs at <paramref name="keyServerUrl"/> with each wrapped key, and the
    /// SHA-256 of each segment and init segment as the camera indexed it.
    /// </summary>
    public async Task<IReadOnlyList<PlaylistSegment>> PlaylistSegmentsAsync(
        string region, Guid cameraId, DateTimeOffset from, DateTimeOffset to, TimeSpan urlLifetime, string keyServerUrl, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        var earliest = from.AddMilliseconds(-SegmentValidation.MaxDurationMs);
        var rows = (await SegmentsStartingAsync(index, cameraId, earliest, to, cancellationToken))
            .Where(s => s.StartTime.AddMilliseconds(s.DurationMs) > from)
            .ToList();
        return await ToPlaylistAsync(index, region, cameraId, rows, urlLifetime, keyServerUrl, grantFor: null, cancellationToken);
    }

    /// <summary>
    /// The live playlist's segments: the camera's newest unbroken run (consecutive sequence numbers, no gap in time)
    /// among those that started after <paramref name="since"/>, so the media sequence numbers are the camera's own and
    /// the same segment has the same number at every reload. A camera that stopped recording before then has none.
    /// </summary>
    /// <param name="grantFor">For a viewer: the live grant for each data key (the playlist's key tag carries it); null for other roles.</param>
    public async Task<(long FirstSequence, IReadOnlyList<PlaylistSegment> Segments)> LiveSegmentsAsync(
        string region, Guid cameraId, DateTimeOffset since, TimeSpan urlLifetime, string keyServerUrl, Func<Guid, string>? grantFor, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        var rows = await SegmentsStartingAsync(index, cameraId, since, DateTimeOffset.MaxValue, cancellationToken);
        var first = rows.Count;
        while (first > 0 && (first == rows.Count || (rows[first - 1].Sequence == rows[first].Sequence - 1
            && rows[first].StartTime - rows[first - 1].StartTime.AddMilliseconds(rows[first - 1].DurationMs) <= HlsPlaylist.GapTolerance)))
        {
            first--;
        }

        var run = rows.Skip(first).ToList();
        return (run.Count > 0 ? run[0].Sequence : 0, await ToPlaylistAsync(index, region, cameraId, run, urlLifetime, keyServerUrl, grantFor, cancellationToken));
    }

    /// <summary>What a playlist needs of a segment row.</summary>
    sealed record PlaylistRow(long Sequence, DateTimeOffset StartTime, int DurationMs, string ObjectName, byte[] Iv, byte[] Sha256, Guid KeyId, string InitObjectName);

    static async Task<List<PlaylistRow>> SegmentsStartingAsync(IndexDbContext index, Guid cameraId, DateTimeOffset after, DateTimeOffset before, CancellationToken cancellationToken) =>
        await index.Segments.AsNoTracking()
            .Where(s => s.CameraId == cameraId && s.StartTime > after && s.StartTime < before)
            .OrderBy(s => s.StartTime)
            .Select(s => new PlaylistRow(s.Sequence, s.StartTime, s.DurationMs, s.ObjectName, s.Iv, s.Sha256, s.KeyId, s.InitObjectName))
            .ToListAsync(cancellationToken);

    /// <summary>The rows as playlist entries: read URLs, init segments, and keys (with a grant each, for a viewer).</summary>
    async Task<IReadOnlyList<PlaylistSegment>> ToPlaylistAsync(
        IndexDbContext index, string region, Guid cameraId, IReadOnlyList<PlaylistRow> rows, TimeSpan urlLifetime, string keyServerUrl, Func<Guid, string>? grantFor, CancellationToken cancellationToken)
    {
        var initNames = rows.Select(r => r.InitObjectName).Distinct().ToList();
        var inits = await index.InitSegments.AsNoTracking().Where(i => i.CameraId == cameraId && initNames.Contains(i.ObjectName))
            .ToDictionaryAsync(i => i.ObjectName, i => (i.Iv, i.Sha256), StringComparer.Ordinal, cancellationToken);
        var keyIds = rows.Select(r => r.KeyId).Distinct().ToList();
        var keys = await index.WrappedKeys.AsNoTracking().Where(k => keyIds.Contains(k.KeyId)).ToDictionaryAsync(k => k.KeyId, k => k.Wrapped, cancellationToken);

        var now = time.GetUtcNow();
        var urls = await regions.Storage(region).ReadUrlsAsync(cameraId, [.. rows.Select(r => r.ObjectName).Concat(initNames)], now, now + urlLifetime, cancellationToken);
        var keyServer = keyServerUrl.TrimEnd('/');
        var playlistKeys = keys.ToDictionary(k => k.Key, k => new PlaylistKey($"{keyServer}/v1/keys/{k.Key:N}", k.Value, grantFor?.Invoke(k.Key)));
        return [.. rows
            .Where(r => inits.ContainsKey(r.InitObjectName) && keys.ContainsKey(r.KeyId))
            .Select(r => new PlaylistSegment(
                r.StartTime, r.DurationMs, urls[r.ObjectName], r.Iv, r.Sha256, playlistKeys[r.KeyId],
                urls[r.InitObjectName], inits[r.InitObjectName].Iv, inits[r.InitObjectName].Sha256))];
    }

    /// <summary>
    /// Marks a camera's stored file reported altered: the media segment that starts at <paramref name="segmentStart"/>
    /// (the earliest sequence, should two start at the same millisecond), or with <paramref name="init"/> the init
    /// segment it plays with. A conditional update, so of any number of reports (parallel ones included) exactly one
    /// finds the mark unset: <see cref="AlteredFile.FirstReport"/>.
    /// </summary>
    /// <returns>The segment and when the file was first reported; null when no segment of the camera starts then.</returns>
    public async Task<AlteredFile?> MarkAlteredAsync(string region, Guid cameraId, DateTimeOffset segmentStart, bool init, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        var segment = await index.Segments.AsNoTracking()
            .Where(s => s.CameraId == cameraId && s.StartTime == segmentStart)
            .OrderBy(s => s.Sequence)
            .Select(s => new { s.Id, s.Sequence, s.StartTime, s.DurationMs, s.InitObjectName })
            .FirstOrDefaultAsync(cancellationToken);
        if (segment is null)
        {
            return null;
        }

        var now = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds()); // as stored, so every answer gives the same time
        var marked = init
            ? await index.InitSegments.Where(i => i.CameraId == cameraId && i.ObjectName == segment.InitObjectName && i.TamperReportedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(i => i.TamperReportedAt, now), cancellationToken)
            : await index.Segments.Where(s => s.Id == segment.Id && s.TamperReportedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.TamperReportedAt, now), cancellationToken);
        var firstReportedAt = marked == 1
            ? now
            : init
                ? await index.InitSegments.AsNoTracking().Where(i => i.CameraId == cameraId && i.ObjectName == segment.InitObjectName).Select(i => i.TamperReportedAt).SingleOrDefaultAsync(cancellationToken)
                : await index.Segments.AsNoTracking().Where(s => s.Id == segment.Id).Select(s => s.TamperReportedAt).SingleOrDefaultAsync(cancellationToken);

        // Null here: the row went in between (the retention sweep), so there is nothing left to report.
        return firstReportedAt is { } first
            ? new AlteredFile(segment.Sequence, segment.StartTime, segment.StartTime.AddMilliseconds(segment.DurationMs), first, FirstReport: marked == 1)
            : null;
    }

    /// <summary>Takes back a mark <see cref="MarkAlteredAsync"/> set (its audit entry could not be written), so the next report is the first again.</summary>
    public async Task UnmarkAlteredAsync(string region, Guid cameraId, AlteredFile altered, bool init, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        var at = altered.FirstReportedAt;
        _ = init
            ? await index.InitSegments
                .Where(i => i.CameraId == cameraId && i.TamperReportedAt == at
                    && index.Segments.Any(s => s.CameraId == cameraId && s.Sequence == altered.Sequence && s.InitObjectName == i.ObjectName))
                .ExecuteUpdateAsync(set => set.SetProperty(i => i.TamperReportedAt, (DateTimeOffset?)null), cancellationToken)
            : await index.Segments.Where(s => s.CameraId == cameraId && s.Sequence == altered.Sequence && s.TamperReportedAt == at)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.TamperReportedAt, (DateTimeOffset?)null), cancellationToken);
    }

    /// <summary>When each camera's last recording ended (one indexed look-up per camera); cameras with none are absent.</summary>
    public async Task<IReadOnlyDictionary<Guid, DateTimeOffset>> LastRecordingEndsAsync(string region, IEnumerable<Guid> cameraIds, CancellationToken cancellationToken)
    {
        var ends = new Dictionary<Guid, DateTimeOffset>();
        await using var index = regions.OpenIndex(region);
        foreach (var cameraId in cameraIds)
        {
            var last = await index.Segments.AsNoTracking()
                .Where(s => s.CameraId == cameraId)
                .OrderByDescending(s => s.StartTime)
                .Select(s => new { s.StartTime, s.DurationMs })
                .FirstOrDefaultAsync(cancellationToken);
            if (last is not null)
            {
                ends[cameraId] = last.StartTime.AddMilliseconds(last.DurationMs);
            }
        }

        return ends;
    }

    /// <summary>
    /// A page of a camera's segments that started before <paramref name="cutoff"/>, oldest first, after the
    /// (start, id) position <paramref name="after"/>: the candidates retention decides on.
    /// </summary>
    public async Task<IReadOnlyList<Retention.RetentionSegment>> SegmentsStartedBeforeAsync(
        string region, Guid cameraId, DateTimeOffset cutoff, (DateTimeOffset Start, long Id)? after, int pageSize, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        var rows = index.Segments.AsNoTracking().Where(s => s.CameraId == cameraId && s.StartTime < cutoff);
        if (after is { } position)
        {
            var (start, id) = position;
            rows = rows.Where(s => s.StartTime > start || (s.StartTime == start && s.Id > id));
        }

        return await rows.OrderBy(s => s.StartTime).ThenBy(s => s.Id).Take(pageSize)
            .Select(s => new Retention.RetentionSegment(s.Id, s.StartTime, s.DurationMs, s.ObjectName))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Removes segment rows (their objects already deleted); returns how many this call removed, so two sweeps count each row once.</summary>
    public async Task<int> RemoveSegmentsAsync(string region, Guid cameraId, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        return await index.Segments.Where(s => s.CameraId == cameraId && ids.Contains(s.Id)).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>A camera's init segments indexed at or before <paramref name="indexedBefore"/>, and which of them a remaining segment still uses.</summary>
    public async Task<(IReadOnlyList<(string Name, DateTimeOffset IndexedAt)> Candidates, IReadOnlySet<string> Used)> OldInitSegmentsAsync(
        string region, Guid cameraId, DateTimeOffset indexedBefore, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        var candidates = (await index.InitSegments.AsNoTracking().Where(i => i.CameraId == cameraId && i.IndexedAt <= indexedBefore)
            .Select(i => new { i.ObjectName, i.IndexedAt }).ToListAsync(cancellationToken)).Select(i => (i.ObjectName, i.IndexedAt)).ToList();
        var names = candidates.Select(c => c.ObjectName).ToList();
        var used = await index.Segments.AsNoTracking().Where(s => s.CameraId == cameraId && names.Contains(s.InitObjectName))
            .Select(s => s.InitObjectName).Distinct().ToListAsync(cancellationToken);
        return (candidates, used.ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Removes init segment rows (their objects already deleted) that no segment uses; returns how many this call removed.</summary>
    public async Task<int> RemoveInitSegmentsAsync(string region, Guid cameraId, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        return await index.InitSegments
            .Where(i => i.CameraId == cameraId && names.Contains(i.ObjectName) && !index.Segments.Any(s => s.CameraId == cameraId && s.InitObjectName == i.ObjectName))
            .ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>A camera's wrapped keys indexed at or before <paramref name="indexedBefore"/>, and which of them a remaining segment or init segment still uses.</summary>
    public async Task<(IReadOnlyList<(Guid Name, DateTimeOffset IndexedAt)> Candidates, IReadOnlySet<Guid> Used)> OldWrappedKeysAsync(
        string region, Guid cameraId, DateTimeOffset indexedBefore, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        var candidates = (await index.WrappedKeys.AsNoTracking().Where(k => k.CameraId == cameraId && k.IndexedAt <= indexedBefore)
            .Select(k => new { k.KeyId, k.IndexedAt }).ToListAsync(cancellationToken)).Select(k => (k.KeyId, k.IndexedAt)).ToList();
        var ids = candidates.Select(c => c.KeyId).ToList();
        var used = await index.Segments.AsNoTracking().Where(s => s.CameraId == cameraId && ids.Contains(s.KeyId)).Select(s => s.KeyId).Distinct().ToListAsync(cancellationToken);
        used.AddRange(await index.InitSegments.AsNoTracking().Where(i => i.CameraId == cameraId && ids.Contains(i.KeyId)).Select(i => i.KeyId).Distinct().ToListAsync(cancellationToken));
        return (candidates, used.ToHashSet());
    }

    /// <summary>Removes wrapped key rows (their objects already deleted) that nothing uses; returns how many this call removed.</summary>
    public async Task<int> RemoveWrappedKeysAsync(string region, Guid cameraId, IReadOnlyCollection<Guid> keyIds, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        return await index.WrappedKeys
            .Where(k => k.CameraId == cameraId && keyIds.Contains(k.KeyId)
                && !index.Segments.Any(s => s.CameraId == cameraId && s.KeyId == k.KeyId)
                && !index.InitSegments.Any(i => i.CameraId == cameraId && i.KeyId == k.KeyId))
            .ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>Whether the index holds anything of the camera (a segment, an init segment or a wrapped key).</summary>
    public async Task<bool> HasAnyAsync(string region, Guid cameraId, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        return await index.Segments.AnyAsync(s => s.CameraId == cameraId, cancellationToken)
            || await index.InitSegments.AnyAsync(i => i.CameraId == cameraId, cancellationToken)
            || await index.WrappedKeys.AnyAsync(k => k.CameraId == cameraId, cancellationToken);
    }

    /// <summary>Removes every row of a deleted camera (its objects already deleted); returns how many this call removed.</summary>
    public async Task<int> RemoveCameraAsync(string region, Guid cameraId, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        return await index.Segments.Where(s => s.CameraId == cameraId).ExecuteDeleteAsync(cancellationToken)
            + await index.InitSegments.Where(i => i.CameraId == cameraId).ExecuteDeleteAsync(cancellationToken)
            + await index.WrappedKeys.Where(k => k.CameraId == cameraId).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>The cameras the index holds rows of for an organisation, as its rows name them.</summary>
    public async Task<IReadOnlyList<Guid>> CamerasOfOrganizationAsync(string region, Guid organizationId, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        var cameras = await index.Segments.Where(s => s.OrganizationId == organizationId).Select(s => s.CameraId).Distinct().ToListAsync(cancellationToken);
        cameras.AddRange(await index.InitSegments.Where(i => i.OrganizationId == organizationId).Select(i => i.CameraId).Distinct().ToListAsync(cancellationToken));
        cameras.AddRange(await index.WrappedKeys.Where(k => k.OrganizationId == organizationId).Select(k => k.CameraId).Distinct().ToListAsync(cancellationToken));
        return [.. cameras.Distinct()];
    }

    /// <summary>
    /// Removes every row a deleted organisation still has in the region, whatever camera it names (one the directory no
    /// longer knows included); returns how many this call removed.
    /// </summary>
    public async Task<int> RemoveOrganizationAsync(string region, Guid organizationId, CancellationToken cancellationToken)
    {
        await using var index = regions.OpenIndex(region);
        return await index.Segments.Where(s => s.OrganizationId == organizationId).ExecuteDeleteAsync(cancellationToken)
            + await index.InitSegments.Where(i => i.OrganizationId == organizationId).ExecuteDeleteAsync(cancellationToken)
            + await index.WrappedKeys.Where(k => k.OrganizationId == organizationId).ExecuteDeleteAsync(cancellationToken);
    }

    static bool TryReadKeyName(byte[] bytes, out KeyEncryptionKeyId name)
    {
        name = null!;
        try
        {
            return KeyEncryptionKeyId.TryParse(WrappedKey.Parse(bytes).KeyEncryptionKeyId, out name);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    static bool Same(SegmentRow row, SegmentMetadata segment) =>
        row.ObjectName == segment.Media.ObjectName && row.Size == segment.Media.Size && row.KeyId == segment.Media.KeyId
        && row.Sha256.AsSpan().SequenceEqual(Convert.FromHexString(segment.Media.Sha256))
        && row.Iv.AsSpan().SequenceEqual(Convert.FromHexString(segment.Media.Iv))
        && row.StartTime == segment.StartTime && row.DurationMs == segment.DurationMs && row.InitObjectName == segment.InitObjectName;

    static bool Same(InitSegmentRow row, StoredObject init) =>
        row.Size == init.Size && row.KeyId == init.KeyId
        && row.Sha256.AsSpan().SequenceEqual(Convert.FromHexString(init.Sha256))
        && row.Iv.AsSpan().SequenceEqual(Convert.FromHexString(init.Iv));
}
