using XnorEdge.Planning;

namespace XnorEdge.Runtime.Threading;

/// <summary>
/// Work split among the workers of a <see cref="WorkerPool"/>: worker <c>w</c> of <c>n</c> does its share
/// in <c>arena</c>, the arena of the interpreter running it (null for work outside one).
/// </summary>
public interface IParallelWork
{
    void Execute(Arena? arena, int worker, int workers);
}

/// <summary>
/// Persistent worker threads for running one inference on several cores without allocating: the
/// threads are created once (at load), <see cref="Run(IParallelWork, int)"/> publishes the work item, wakes the workers,
/// does share 0 on the calling thread and waits on a countdown. Waiting spins briefly (back-to-back
/// layers are tens of microseconds apart), then blocks on a monitor. No Task, closure or delegate is
/// created per call. Not reentrant; <see cref="Run(IParallelWork, int)"/> calls from several threads (interpreters sharing one
/// model loaded with this pool) take turns, one layer at a time. The per-run state (the arena) travels
/// with the call, never in the work item, so work items (layers) stay stateless.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private const int SpinIterations = 1000;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private IParallelWork? _work;
    private Arena? _arena;
    private readonly object _runGate = new();
    private int _workers;
    private int _generation;
    private int _pending;
    private volatile bool _stopping;
    private Exception? _failure;

    /// <param name="threads">Total threads taking part in a <see cref="Run(IParallelWork, int)"/>, the caller included (1 = no extra threads).</param>
    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "at least 1 thread");
        Threads = threads;
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int index = i + 1;
            var t = new Thread(() => Loop(index)) { IsBackground = true, Name = "XnorEdge worker " + index };
            _threads[i] = t;
            t.Start();
        }
    }

    /// <summary>Threads taking part in a run, the calling thread included.</summary>
    public int Threads { get; }

    /// <summary>Managed thread ids of the worker threads (not the caller's), for diagnostics and tests.</summary>
    public int[] WorkerThreadIds => _threads.Select(t => t.ManagedThreadId).ToArray();

    /// <summary>
    /// Runs <c>work.Execute(arena, w, workers)</c> for w = 0..workers-1, share 0 on the calling thread, and returns
    /// when all are done. <paramref name="workers"/> is clamped to 1..<see cref="Threads"/>.
    /// </summary>
    public void Run(IParallelWork work, int workers) => Run(work, null, workers);

    /// <summary>Runs <paramref name="work"/> as <see cref="Run(IParallelWork, int)"/> does, handing each share <paramref name="arena"/>.</summary>
    public void Run(IParallelWork work, Arena? arena, int workers)
    {
        if (workers > Threads) workers = Threads;
        if (workers <= 1)
        {
            work.Execute(arena, 0, 1);
            return;
        }
        // Interpreters sharing one model (and so this pool) take turns: one layer's shares at a time.
        lock (_runGate) RunShared(work, arena, workers);
    }

    private void RunShared(IParallelWork work, Arena? arena, int workers)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        _failure = null;
        Volatile.Write(ref _pending, workers - 1);
        lock (_gate)
        {
            // Published together under the gate: a worker takes its snapshot of all three under it too.
            _work = work;
            _arena = arena;
            _workers = workers;
            _generation++;
            Monitor.PulseAll(_gate);
        }
        Exception? mine = null;
        try
        {
            work.Execute(arena, 0, workers);
        }
        catch (Exception e)
        {
            mine = e;
        }
        if (Volatile.Read(ref _pending) != 0)
        {
            var spin = new SpinWait();
            for (int i = 0; i < SpinIterations && Volatile.Read(ref _pending) != 0; i++) spin.SpinOnce(-1);
            if (Volatile.Read(ref _pending) != 0)
            {
                lock (_gate)
                {
                    while (Volatile.Read(ref _pending) != 0) Monitor.Wait(_gate);
                }
            }
        }
        lock (_gate)
        {
            _work = null;
            _arena = null;
        }
        if (mine != null) throw new AggregateException(mine);
        if (_failure != null) throw new AggregateException(_failure);
    }

    private void Loop(int index)
    {
        int seen = 0;
        while (true)
        {
            if (Volatile.Read(ref _generation) == seen && !_stopping)
            {
                var spin = new SpinWait();
                for (int i = 0; i < SpinIterations && Volatile.Read(ref _generation) == seen && !_stopping; i++) spin.SpinOnce(-1);
                if (Volatile.Read(ref _generation) == seen && !_stopping)
                {
                    lock (_gate)
                    {
                        while (_generation == seen && !_stopping) Monitor.Wait(_gate);
                    }
                }
            }
            if (_stopping) return;
            IParallelWork? work;
            Arena? arena;
            int workers;
            lock (_gate)
            {
                seen = _generation;
                work = _work;
                arena = _arena;
                workers = _workers;
            }
            if (index < workers && work != null)
            {
                try
                {
                    work.Execute(arena, index, workers);
                }
                catch (Exception e)
                {
                    _failure = e;
                }
                if (Interlocked.Decrement(ref _pending) == 0)
                {
                    lock (_gate) Monitor.PulseAll(_gate);
                }
            }
        }
    }

    /// <summary>Stops and joins the worker threads.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (var t in _threads) t.Join();
    }
}
