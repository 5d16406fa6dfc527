/* Metal prelude: the portable kernel dialect's qualifiers, thread indices,
 * barriers and storage types for the Metal Shading Language (Metal 2.3 and
 * later: simd_sum). Thread indices are kernel parameters in Metal, not
 * builtins: every signature ends with irc_gid, irc_lid and irc_grp
 * (codegen/metal's Style), which GID, LID and GROUP read. bf16 is stored
 * as 16 bits and widened to float for arithmetic; f16 is stored as its
 * bits and converted through Metal's half. Float literals carry an f: the
 * C++ test shim (internal/metalshim) compiles this file too, where an
 * unsuffixed literal is a double. */
#include <metal_stdlib>
using namespace metal;

#define KERNEL kernel
#define GLOBAL device
#define LOCAL threadgroup
/* The shim declares threadgroup storage as static thread_local, which a
 * pointer type cannot carry: there a threadgroup pointer is a plain one. */
#ifdef IRC_METAL_SHIM
#define LOCAL_PTR(type) type*
#else
#define LOCAL_PTR(type) threadgroup type*
#endif
#define PRIVATE_PTR(type) thread type*
#define INLINE static inline
#define BARRIER() threadgroup_barrier(mem_flags::mem_threadgroup)
#define GID(d) ((int)irc_gid[d])
#define LID(d) ((int)irc_lid[d])
#define GROUP(d) ((int)irc_grp[d])
#define BITS_TO_FLOAT(u) as_type<float>((uint)(u))
#define FLOAT_TO_BITS(f) as_type<uint>((float)(f))

typedef float f32_t;
typedef ushort bf16_t;
typedef ushort f16_t;
typedef int i32_t;

/* f16 through half: conversions round to nearest even. */
INLINE float ld_f16(GLOBAL const f16_t* p, long i) { return (float)as_type<half>(p[i]); }
INLINE void st_f16(GLOBAL f16_t* p, long i, float v) { p[i] = as_type<ushort>((half)v); }

/* 16 bytes at p, which is 16-byte aligned, as four 32-bit words. */
#define LD16(p) (*(GLOBAL const uint4*)(p))
#define HALF_BITS_TO_FLOAT(h) ((float)as_type<half>((ushort)(h)))

/* Subgroups are simdgroups of 32 threads, formed from consecutive
 * threads of a 1-D threadgroup: a slice of lanes items (a power of two up
 * to 32, in groups of whole simdgroups) is one simdgroup (simd_sum) or an
 * aligned part of one (butterfly shuffles). */
#define HAS_SUBGROUPS 1
#define SUBGROUP_FITS(lanes) ((lanes) <= 32 && WG % 32 == 0)
INLINE float irc_subgroup_sum(float v, int lanes) {
	if (lanes == 32) return simd_sum(v);
	for (int o = lanes / 2; o > 0; o >>= 1) v += simd_shuffle_xor(v, (ushort)o);
	return v;
}
#define SUBGROUP_SUM(v, lanes) irc_subgroup_sum(v, lanes)

/* vf8_t: 8 floats with elementwise + and *, which the CPU-shaped kernels
 * compute in (they compile here; a GPU runs the GPU-shaped ones). ld8v_*
 * load 8 elements from any element-aligned address. */
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
INLINE vf8_t ld8v_f32(GLOBAL const float* p, long i) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = p[i + j];
	return r;
}
INLINE vf8_t ld8v_bf16(GLOBAL const bf16_t* p, long i) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = BITS_TO_FLOAT(((uint)p[i + j]) << 16);
	return r;
}
INLINE vf8_t ld8v_f16(GLOBAL const f16_t* p, long i) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = HALF_BITS_TO_FLOAT(p[i + j]);
	return r;
}
INLINE vf8_t ld8v_private(thread const float* p, int i) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = p[i + j];
	return r;
}
#define VF8_STORE(x, p) \
	do { \
		for (int j_ = 0; j_ < 8; j_++) (p)[j_] = (x).v[j_]; \
	} while (0)
INLINE vf8_t vf8_exp(vf8_t a) {
	for (int j = 0; j < 8; j++) a.v[j] = exp(a.v[j]);
	return a;
}

/* The quantized blocks' parts: 8 int8 at p as floats (the sign extended
 * by hand, as common.c.in does); 8 nibbles (the low ones of the 8 bytes at
 * p, or with hi the high ones) as floats 0..15; the f16 scale at p
 * (2-byte aligned: blocks are 34 or 18 bytes). */
INLINE vf8_t vf8_i8(GLOBAL const uchar* p) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = (float)((int)p[j] - (((int)p[j] & 128) << 1));
	return r;
}
INLINE vf8_t vf8_u4(GLOBAL const uchar* p, int hi) {
	vf8_t r;
	for (int j = 0; j < 8; j++) r.v[j] = (float)(hi ? p[j] >> 4 : p[j] & 15);
	return r;
}
#define LD_F16_AT(p) ((float)*(GLOBAL const half*)(p))

/* Prefetch hints are for the CPU-shaped kernels: none on a GPU. */
#define PREFETCH(p) ((void)(p))
