using XnorEdge.Planning;
using XnorEdge.Runtime.Threading;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// A fast kernel split into shares over the arena of the interpreter running it: each share pins the
/// arena's word and float pools itself (the layer keeps no pointers between calls, so interpreters on
/// several threads can share one loaded model).
/// </summary>
internal unsafe interface IArenaShares : IParallelWork
{
    /// <summary>
    /// Work done once on the calling thread before the shares start, such as staging the input in scratch
    /// for every share to read. Runs in the same pinned region as the shares (see <see cref="ArenaShares.Run"/>).
    /// </summary>
    void Stage(Arena arena, uint* words, float* floats, sbyte* bytes)
    {
    }

    /// <summary>Share <paramref name="worker"/> of <paramref name="workers"/>, with the arena's pools pinned.</summary>
    void Share(Arena arena, uint* words, float* floats, int worker, int workers);

    void IParallelWork.Execute(Arena? arena, int worker, int workers)
    {
        fixed (uint* words = arena!.Words)
        fixed (float* floats = arena.Floats)
        {
            Share(arena, words, floats, worker, workers);
        }
    }
}

internal static class ArenaShares
{
    /// <summary>
    /// Runs <paramref name="work"/>'s <see cref="IArenaShares.Stage"/>, then every share: on the pool's workers
    /// when <paramref name="workers"/> &gt; 1, else on this thread. The arena's pools stay pinned from the
    /// stage until the last share has finished. Kernels place scratch at 64-byte aligned addresses; between
    /// two separate pins the garbage collector may move a pool to an address with another alignment, and a
    /// share would then look for the staged data a few bytes away from where the stage wrote it.
    /// </summary>
    public static unsafe void Run(IArenaShares work, WorkerPool? pool, int workers, Arena arena)
    {
        fixed (uint* words = arena.Words)
        fixed (float* floats = arena.Floats)
        fixed (sbyte* bytes = arena.Bytes)
        {
            work.Stage(arena, words, floats, bytes);
            if (workers > 1) pool!.Run(work, arena, workers);
            else work.Share(arena, words, floats, 0, 1);
        }
    }
}
