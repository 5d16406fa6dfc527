/* CUDA prelude: the portable kernel dialect's qualifiers, thread indices,
 * barriers and storage types for CUDA C++ (nvcc 11.8 and later). Kernels are
 * extern "C" so the runner finds them by their plain names; helpers are
 * static __device__ __forceinline__. bf16 and f16 are stored as 16 bits and
 * widened to float for arithmetic. */
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <mma.h>

/* A program instantiates only the dtypes its schedule uses, so some
 * helpers go unused: that is expected, not worth a warning (#177). */
#pragma nv_diag_suppress 177

#define KERNEL extern "C" __global__
#define GLOBAL
#define LOCAL __shared__
#define LOCAL_PTR(type) type*
#define PRIVATE_PTR(type) type*
#define INLINE static __device__ __forceinline__
#define BARRIER() __syncthreads()
#define BITS_TO_FLOAT(u) __uint_as_float(u)
#define FLOAT_TO_BITS(f) __float_as_uint(f)
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif

typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;
typedef float f32_t;
typedef ushort bf16_t;
typedef ushort f16_t;
typedef int i32_t;

/* OpenCL's index functions over CUDA's builtins; d is a constant. */
INLINE int irc_lid(int d) { return d == 0 ? (int)threadIdx.x : d == 1 ? (int)threadIdx.y : (int)threadIdx.z; }
INLINE int irc_group(int d) { return d == 0 ? (int)blockIdx.x : d == 1 ? (int)blockIdx.y : (int)blockIdx.z; }
INLINE int irc_lsize(int d) { return d == 0 ? (int)blockDim.x : d == 1 ? (int)blockDim.y : (int)blockDim.z; }
#define LID(d) irc_lid(d)
#define GROUP(d) irc_group(d)
#define GID(d) (irc_group(d) * irc_lsize(d) + irc_lid(d))

INLINE float ld_f16(GLOBAL const f16_t* p, long i) { return __half2float(__ushort_as_half(p[i])); }
INLINE void st_f16(GLOBAL f16_t* p, long i, float v) { p[i] = __half_as_ushort(__float2half_rn(v)); }

/* 16 bytes at p, which is 16-byte aligned, as four 32-bit words (one
 * 128-bit load). */
#define LD16(p) (*(const uint4*)(p))
#define HALF_BITS_TO_FLOAT(h) __half2float(__ushort_as_half((ushort)(h)))

/* Subgroups are warps: a slice of lanes items (a power of two up to 32,
 * in groups of whole warps) sums by shuffles within the warp. */
#define HAS_SUBGROUPS 1
#define SUBGROUP_FITS(lanes) ((lanes) <= 32 && WG % 32 == 0)
INLINE float irc_subgroup_sum(float v, int lanes) {
	for (int o = lanes / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}
#define SUBGROUP_SUM(v, lanes) irc_subgroup_sum(v, lanes)

/* vf8_t: 8 floats with elementwise + and *, which the CPU-shaped
 * kernels compute in (they compile here, a GPU runs the GPU-shaped
 * ones). ld8v_* load 8 elements from any element-aligned address. */
struct vf8_t {
	float v[8];
};
INLINE vf8_t VF8_SPLAT(float x) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = x;
	return r;
}
INLINE vf8_t operator+(vf8_t a, vf8_t b) {
	for (int j = 0; j < 8; j++) a.v[j] += b.v[j];
	return a;
}
INLINE vf8_t operator*(vf8_t a, vf8_t b) {
	for (int j = 0; j < 8; j++) a.v[j] *= b.v[j];
	return a;
}
INLINE float vf8_sum(vf8_t a) {
	float s = 0.0f;
	for (int j = 0; j < 8; j++) s += a.v[j];
	return s;
}
INLINE vf8_t ld8v_f32(const float* p, long i) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = p[i + j];
	return r;
}
INLINE vf8_t ld8v_bf16(const bf16_t* p, long i) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = __uint_as_float(((uint)p[i + j]) << 16);
	return r;
}
#define VF8_STORE(x, p) \
	do { \
		for (int j_ = 0; j_ < 8; j_++) (p)[j_] = (x).v[j_]; \
	} while (0)
INLINE vf8_t vf8_exp(vf8_t a) {
	for (int j = 0; j < 8; j++) a.v[j] = expf(a.v[j]);
	return a;
}
INLINE vf8_t ld8v_private(const float* p, int i) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = p[i + j];
	return r;
}
INLINE vf8_t ld8v_f16(const f16_t* p, long i) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = __half2float(__ushort_as_half(p[i + j]));
	return r;
}

/* The quantized blocks' parts: 8 int8 at p as floats; 8 nibbles (the low
 * ones of the 8 bytes at p, or with hi the high ones) as floats 0..15; the
 * f16 scale at p (2-byte aligned: blocks are 34 or 18 bytes). */
INLINE vf8_t vf8_i8(const uchar* p) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = (float)(signed char)p[j];
	return r;
}
INLINE vf8_t vf8_u4(const uchar* p, int hi) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = (float)(hi ? p[j] >> 4 : p[j] & 15);
	return r;
}
#define LD_F16_AT(p) __half2float(*(const __half*)(p))

/* Prefetch hints are for the CPU-shaped kernels: none on a GPU. */
#define PREFETCH(p) ((void)(p))
