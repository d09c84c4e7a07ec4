namespace DeformEngine;

/// <summary>The write counter of one tensor storage, shared by every tensor that views it
/// (<see cref="Tensor{T}.Detach"/>, reshapes), so that a write through any of them is seen by all.</summary>
internal sealed class StorageVersion
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}
