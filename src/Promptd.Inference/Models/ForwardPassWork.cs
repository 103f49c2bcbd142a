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
/// Preallocated per forward pass: a product allocates nothing.
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
    }

    private readonly TransformerModel _model;
    private readonly IMatrixKernels _kernels;
    private readonly Job[] _jobs = new Job[3];
    private readonly byte*[] _scratch = new byte*[3];
    private readonly byte[][] _keepAlive = new byte[3][]; // the pinned arrays behind _scratch
    private readonly int _scratchBytes;
    private int _jobCount, _count, _units, _next;

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
            _kernels.ConvertActivations(matrix, new ReadOnlySpan<float>(input, count * matrix.Columns), count, new Span<byte>(job.Activations, bytes));
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
        _units = 0;
        for (int j = 0; j < _jobCount; j++) _units += _jobs[j].Units;
        _next = 0;
        _model.Pool.Run(this);
    }

    public override void Run(int worker, int workers)
    {
        int unit;
        while ((unit = Interlocked.Increment(ref _next) - 1) < _units)
        {
            int j = 0;
            while (unit >= _jobs[j].Units)
            {
                unit -= _jobs[j].Units;
                j++;
            }
            ref readonly var job = ref _jobs[j];
            var m = job.Matrix;
            int start = unit * job.ChunkRows, end = Math.Min(m.Rows, start + job.ChunkRows);
            _kernels.MatMul(m, new ReadOnlySpan<byte>(job.Activations, _kernels.ActivationBytes(m, _count)), _count,
                new Span<float>(job.Output, _count * m.Rows), start, end);
        }
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
