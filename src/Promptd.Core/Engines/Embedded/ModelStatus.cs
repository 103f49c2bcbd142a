namespace Promptd.Core.Engines.Embedded;

/// <summary>Where a model is in its life: on disk, being loaded, in memory, or failed to load.</summary>
public enum ModelState
{
    Available,
    Loading,
    Loaded,
    Failed,
}

/// <summary>A model's state for status endpoints. <see cref="MemoryBytes"/> is the accounted size while loaded.</summary>
public sealed record ModelStatus(string ModelId, ModelState State, long MemoryBytes, int ActiveGenerations, string? Error, DateTimeOffset? LoadedAt);
