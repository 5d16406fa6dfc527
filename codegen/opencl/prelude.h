/* OpenCL prelude: the portable kernel dialect's qualifiers, thread indices,
 * barriers and storage types for OpenCL C 1.2. bf16 is stored as 16 bits and
 * widened to float for arithmetic; f16 uses vload_half/vstore_half, which
 * need no extension. */
#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
#define LOCAL_PTR(type) __local type*
#define PRIVATE_PTR(type) type*
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

/* 16 bytes at p, which is 16-byte aligned, as four 32-bit words. */
#define LD16(p) (*(GLOBAL const uint4*)(p))

/* An f16's bits (low 16 of h) as a float: OpenCL C has no half values
 * without cl_khr_fp16. Exact for every f16, subnormals included. */
INLINE float half_bits_to_float(uint h) {
	uint s = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
	if (e == 0x1fu) return as_float(s | 0x7f800000u | (m << 13));
	if (e == 0u) return as_float(s | as_uint((float)m * 5.9604644775390625e-8f));
	return as_float(s | ((e + 112u) << 23) | (m << 13));
}
#define HALF_BITS_TO_FLOAT(h) half_bits_to_float(h)

/* Subgroups where the compiler offers them (OpenCL C 2.0's
 * cl_khr_subgroups, or Intel's): SUBGROUP_FITS(lanes) says, at run time,
 * whether a subgroup is exactly a slice of lanes items, and SUBGROUP_SUM
 * sums over it. Elsewhere (PoCL) the callers reduce through local memory. */
#if (defined(cl_khr_subgroups) && defined(__OPENCL_C_VERSION__) && __OPENCL_C_VERSION__ >= 200) || defined(cl_intel_subgroups)
#ifdef cl_khr_subgroups
#pragma OPENCL EXTENSION cl_khr_subgroups : enable
#endif
#define HAS_SUBGROUPS 1
#define SUBGROUP_FITS(lanes) (get_sub_group_size() == (uint)(lanes))
#define SUBGROUP_SUM(v, lanes) sub_group_reduce_add(v)
#else
#define HAS_SUBGROUPS 0
#endif

/* vf8_t: 8 floats with elementwise + and * (a value type where the
 * language has one), for the CPU-shaped kernels, whose loops a CPU
 * compiler must turn into vector instructions along the row. ld8v_* load
 * 8 elements from any element-aligned address. */
typedef float8 vf8_t;
#define VF8_SPLAT(x) ((float8)(x))
INLINE float vf8_sum(float8 v) {
	float4 s = v.lo + v.hi;
	return (s.x + s.y) + (s.z + s.w);
}
INLINE float8 ld8v_f32(GLOBAL const float* p, long i) { return vload8(0, p + i); }
INLINE float8 ld8v_bf16(GLOBAL const bf16_t* p, long i) { return as_float8(convert_uint8(vload8(0, p + i)) << 16); }
INLINE float8 ld8v_f16(GLOBAL const f16_t* p, long i) { return vload_half8(0, (GLOBAL const half*)(p + i)); }
INLINE float8 ld8v_private(PRIVATE_PTR(float) p, int i) { return vload8(0, p + i); }
/* The quantized blocks' parts: 8 int8 at p as floats; 8 nibbles (the low
 * ones of the 8 bytes at p, or with hi the high ones) as floats 0..15; the
 * f16 scale at p (2-byte aligned: blocks are 34 or 18 bytes). */
INLINE float8 vf8_i8(GLOBAL const uchar* p) { return convert_float8(vload8(0, (GLOBAL const char*)p)); }
INLINE float8 vf8_u4(GLOBAL const uchar* p, int hi) {
	uchar8 v = vload8(0, p);
	return convert_float8(hi ? v >> (uchar8)4 : v & (uchar8)15);
}
#define LD_F16_AT(p) vload_half(0, (GLOBAL const half*)(p))
#define VF8_STORE(v, p) vstore8((v), 0, (p))
#define vf8_exp(v) exp(v)

/* A hint that p is read soon (the CPU-shaped kernels stream weights). */
#ifdef __clang__
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) prefetch(p, 1)
#endif
