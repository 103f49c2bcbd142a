using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Promptd.Inference.Kernels;
using Promptd.Inference.Kernels.Simd;
using Promptd.Inference.Threading;

namespace Promptd.Inference.Models;

/// <summary>
/// One to three matrix products from the same input (q, k, v; or gate, up), run by the worker pool.
/// Each input is converted once per activation format; the rows of all the matrices are cut into
/// units that the threads claim one by one, so a thread the OS delays does not hold the others up.
/// A batch of several tokens (a prompt) has its input rows converted by the threads too, in a first
/// dispatch: one thread converting 64 rows while the others wait cost about a tenth of a prompt's
/// time. Preallocated per forward pass: a product allocates nothing.
/// </summary>
internal sealed unsafe class MatMulWork : ParallelWork
{
    private struct Job
    {
        public MatrixView Matrix;
        public byte* Activations;
        public float* Output;
        public int ChunkRows;
        public int Units;
        public float* Input;       // set while this job's input still has to be converted
    }

    /// <summary>From this many tokens on (a prompt, not a step of a few concurrent generations), the input rows are converted by all threads.</summary>
    private const int ParallelConversionFrom = 32;

    private readonly TransformerModel _model;
    private readonly IMatrixKernels _kernels;
    private readonly Job[] _jobs = new Job[3];
    private readonly byte*[] _scratch = new byte*[3];
    private readonly byte[][] _keepAlive = new byte[3][]; // the pinned arrays behind _scratch
    private readonly int _scratchBytes;
    private int _jobCount, _count, _units, _next;
    private bool _converting;

    /// <param name="scratchBytes">The most bytes one matrix's converted activations take.</param>
    public MatMulWork(TransformerModel model, int scratchBytes)
    {
        _model = model;
        _kernels = model.Kernels;
        _scratchBytes = scratchBytes;
        for (int i = 0; i < _scratch.Length; i++)
        {
            var pinned = GC.AllocateArray<byte>(scratchBytes, pinned: true);
            _scratch[i] = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
            _keepAlive[i] = pinned;
        }
    }

    public void Project(float* input, int count, in MatrixView m0, float* y0)
    {
        _jobCount = 0;
        Add(input, count, m0, y0);
        Dispatch(count);
    }

    public void Project(float* input, int count, in MatrixView m0, float* y0, in MatrixView m1, float* y1)
    {
        _jobCount = 0;
        Add(input, count, m0, y0);
        Add(input, count, m1, y1);
        Dispatch(count);
    }

    public void Project(float* input, int count, in MatrixView m0, float* y0, in MatrixView m1, float* y1, in MatrixView m2, float* y2)
    {
        _jobCount = 0;
        Add(input, count, m0, y0);
        Add(input, count, m1, y1);
        Add(input, count, m2, y2);
        Dispatch(count);
    }

    private void Add(float* input, int count, in MatrixView matrix, float* output)
    {
        ref var job = ref _jobs[_jobCount];
        job.Matrix = matrix;
        job.Output = output;
        job.Activations = null;
        job.Input = null;
        // Matrices that read the same activation format from this input share one conversion.
        for (int j = 0; j < _jobCount; j++)
        {
            var other = _jobs[j].Matrix;
            if (other.Type.ActivationType == matrix.Type.ActivationType && other.Columns == matrix.Columns) job.Activations = _jobs[j].Activations;
        }
        if (job.Activations is null)
        {
            int bytes = _kernels.ActivationBytes(matrix, count);
            if (bytes > _scratchBytes) throw new ArgumentException($"{count} activation rows need {bytes} bytes of scratch, more than the {_scratchBytes} allocated");
            job.Activations = _scratch[_jobCount];
            if (count >= ParallelConversionFrom && _model.Pool.Threads > 1) job.Input = input;
            else _kernels.ConvertActivations(matrix, new ReadOnlySpan<float>(input, count * matrix.Columns), count, new Span<byte>(job.Activations, bytes));
        }
        // Units of whole 16-row groups, about 16 per matrix so that two threads stay busy to the end.
        int groups = (matrix.Rows + InterleavedRows.GroupRows - 1) / InterleavedRows.GroupRows;
        job.ChunkRows = Math.Max(1, (groups + 15) / 16) * InterleavedRows.GroupRows;
        job.Units = (matrix.Rows + job.ChunkRows - 1) / job.ChunkRows;
        _jobCount++;
    }

    private void Dispatch(int count)
    {
        _count = count;
        RunPhase(converting: true);
        for (int j = 0; j < _jobCount; j++) _jobs[j].Input = null;
        RunPhase(converting: false);
    }

    /// <summary>Runs the conversion units (if any job has an input to convert) or the multiplication units.</summary>
    private void RunPhase(bool converting)
    {
        _converting = converting;
        _units = 0;
        for (int j = 0; j < _jobCount; j++) _units += UnitsOf(_jobs[j]);
        _next = 0;
        if (_units > 0) _model.Pool.Run(this);
    }

    /// <summary>A job's units in the current phase: one per input row to convert, or its row chunks.</summary>
    private int UnitsOf(in Job job) => _converting ? (job.Input is null ? 0 : _count) : job.Units;

    public override void Run(int worker, int workers)
    {
        int unit;
        while ((unit = Interlocked.Increment(ref _next) - 1) < _units)
        {
            int j = 0;
            while (unit >= UnitsOf(_jobs[j]))
            {
                unit -= UnitsOf(_jobs[j]);
                j++;
            }
            if (_converting) ConvertRow(_jobs[j], unit);
            else MultiplyChunk(_jobs[j], unit);
        }
    }

    /// <summary>Converts input row <paramref name="row"/> of a job that owns a conversion (the others share theirs).</summary>
    private void ConvertRow(in Job job, int row)
    {
        var m = job.Matrix;
        int rowBytes = _kernels.ActivationBytes(m, 1);
        _kernels.ConvertActivations(m, new ReadOnlySpan<float>(job.Input + (long)row * m.Columns, m.Columns), 1,
            new Span<byte>(job.Activations + (long)row * rowBytes, rowBytes));
    }

    private void MultiplyChunk(in Job job, int chunk)
    {
        var m = job.Matrix;
        int start = chunk * job.ChunkRows, end = Math.Min(m.Rows, start + job.ChunkRows);
        _kernels.MatMul(m, new ReadOnlySpan<byte>(job.Activations, _kernels.ActivationBytes(m, _count)), _count,
            new Span<float>(job.Output, _count * m.Rows), start, end);
    }
}

/// <summary>
/// Causal attention of every token of a pass against its own sequence's cache, one unit per token
/// and KV head: the query heads sharing that KV head (grouped-query attention) are multiplied with
/// its keys in one product, so the keys are read once for the group, then softmax, then one
/// product with the values. Each thread has its own scratch for scores and converted rows.
/// </summary>
internal sealed unsafe class AttentionWork : ParallelWork
{
    private readonly IMatrixKernels _kernels;
    private readonly ModelConfig _config;
    private readonly WorkerPool _pool;
    private readonly float* _q, _attention;
    private readonly int[] _positions;
    private readonly KvCache?[] _caches;
    private readonly float[][] _scores;   // per thread: group × context
    private readonly byte[][] _converted; // per thread: the query heads or the scores, converted
    private int _layer, _units, _next;

    public AttentionWork(TransformerModel model, float* q, float* attention, int[] positions, KvCache?[] caches, int maxContext, KvCacheType cacheType)
    {
        _kernels = model.Kernels;
        _config = model.Config;
        _pool = model.Pool;
        _q = q;
        _attention = attention;
        _positions = positions;
        _caches = caches;
        var c = _config;
        int group = c.HeadCount / c.KvHeadCount;
        var type = KvCache.ElementType(cacheType);
        // Views with no data, only to size the converted rows of the two products.
        var keys = new MatrixView(null, type, maxContext, c.HeadDimension, type.RowBytes(c.HeadDimension));
        var values = new MatrixView(null, type, c.HeadDimension, maxContext, type.RowBytes(maxContext));
        int converted = Math.Max(_kernels.ActivationBytes(keys, group), _kernels.ActivationBytes(values, group));
        _scores = new float[_pool.Threads][];
        _converted = new byte[_pool.Threads][];
        for (int w = 0; w < _pool.Threads; w++)
        {
            _scores[w] = new float[group * maxContext];
            _converted[w] = new byte[converted];
        }
    }

    public void Attend(int layer, int tokens)
    {
        _layer = layer;
        _units = tokens * _config.KvHeadCount;
        _next = 0;
        _pool.Run(this);
    }

    public override void Run(int worker, int workers)
    {
        var c = _config;
        int unit;
        while ((unit = Interlocked.Increment(ref _next) - 1) < _units)
            Attend(worker, unit / c.KvHeadCount, unit % c.KvHeadCount);
    }

    private void Attend(int worker, int token, int kvHead)
    {
        var c = _config;
        int d = c.HeadDimension, group = c.HeadCount / c.KvHeadCount;
        int positions = _positions[token] + 1;
        var cache = _caches[token]!;
        float scale = 1.0f / MathF.Sqrt(d);
        int at = (token * c.HeadCount + kvHead * group) * d;
        var scores = _scores[worker].AsSpan(0, group * positions);
        var converted = _converted[worker];

        var keys = cache.Keys(_layer, kvHead, positions);
        _kernels.ConvertActivations(keys, new ReadOnlySpan<float>(_q + at, group * d), group, converted);
        _kernels.MatMul(keys, converted, group, scores, 0, positions);
        for (int h = 0; h < group; h++) _kernels.Softmax(scores.Slice(h * positions, positions), scale);

        var values = cache.ValuesTransposed(_layer, kvHead, positions);
        _kernels.ConvertActivations(values, scores, group, converted);
        _kernels.MatMul(values, converted, group, new Span<float>(_attention + at, group * d), 0, d);
    }
}

/// <summary>
/// The feed-forward gate of a batch, gate[i] = silu(gate[i])·up[i], in chunks shared by the pool's
/// threads. A prompt's gate holds tokens × FeedForwardLength values (360,448 for 64 TinyLlama
/// tokens), and one thread alone would keep the others waiting; one token's gate is done on the
/// calling thread, where a dispatch would cost more than it saves. Every element is computed the
/// same way whichever thread takes it.
/// </summary>
internal sealed unsafe class SwiGluWork : ParallelWork
{
    /// <summary>Below this many values the caller does them alone.</summary>
    private const int ParallelFrom = 32 * 1024;
    private const int ChunkValues = 8 * 1024;

    private readonly WorkerPool _pool;
    private readonly float* _gate, _up;
    private int _count, _chunks, _next;

    public SwiGluWork(WorkerPool pool, float* gate, float* up)
    {
        _pool = pool;
        _gate = gate;
        _up = up;
    }

    public void Apply(int count)
    {
        if (count < ParallelFrom || _pool.Threads == 1)
        {
            Range(0, count);
            return;
        }
        _count = count;
        _chunks = (count + ChunkValues - 1) / ChunkValues;
        _next = 0;
        _pool.Run(this);
    }

    public override void Run(int worker, int workers)
    {
        int chunk;
        while ((chunk = Interlocked.Increment(ref _next) - 1) < _chunks)
        {
            int start = chunk * ChunkValues;
            Range(start, Math.Min(_count, start + ChunkValues));
        }
    }

    private void Range(int start, int end)
    {
        for (int i = start; i < end; i++) _gate[i] = Silu(_gate[i]) * _up[i];
    }

    private static float Silu(float x) => x / (1.0f + MathF.Exp(-x));
}
