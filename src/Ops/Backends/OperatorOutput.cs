namespace DeformEngine;

/// <summary>A forward result together with what the backend that computed it saves for its own
/// backward (an argmax table, batch statistics, probabilities): opaque to everyone else, handed back
/// unchanged to the same backend's backward.</summary>
public readonly record struct OperatorOutput<T>(Tensor<T> Output, object? Saved)
    where T : unmanaged, IFloatingPointIeee754<T>;
