namespace DeformEngine.Cpu;

/// <summary>A partial panel of <see cref="Columns"/> columns packed right after a task's slice, computed for the
/// task's rows [FirstRow, EndRow) into C at <see cref="C"/> (at the task's first row).</summary>
internal readonly unsafe struct GemmTail<T>(int columns, T* c, int firstRow, int endRow) where T : unmanaged
{
    public int Columns { get; } = columns;
    public T* C { get; } = c;
    public int FirstRow { get; } = firstRow;
    public int EndRow { get; } = endRow;
}
