/* OpenCL prelude: the portable kernel dialect's qualifiers, thread indices,
 * barriers and storage types for OpenCL C 1.2. bf16 is stored as 16 bits and
 * widened to float for arithmetic; f16 uses vload_half/vstore_half, which
 * need no extension. */
#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
#define LOCAL_PTR(type) __local type*
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define GID(d) ((int)get_global_id(d))
#define LID(d) ((int)get_local_id(d))
#define GROUP(d) ((int)get_group_id(d))
#define INLINE inline
#define BITS_TO_FLOAT(u) as_float(u)
#define FLOAT_TO_BITS(f) as_uint(f)

typedef float f32_t;
typedef ushort bf16_t;
typedef ushort f16_t;
typedef int i32_t;

INLINE float ld_f16(GLOBAL const f16_t* p, long i) { return vload_half(i, (GLOBAL const half*)p); }
INLINE void st_f16(GLOBAL f16_t* p, long i, float v) { vstore_half_rte(v, i, (GLOBAL half*)p); }
