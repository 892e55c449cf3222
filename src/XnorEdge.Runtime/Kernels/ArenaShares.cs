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
    /// <summary>Runs every share of <paramref name="work"/>: on the pool's workers when <paramref name="workers"/> &gt; 1, else on this thread.</summary>
    public static void Run(IArenaShares work, WorkerPool? pool, int workers, Arena arena)
    {
        if (workers > 1) pool!.Run(work, arena, workers);
        else work.Execute(arena, 0, 1);
    }
}
