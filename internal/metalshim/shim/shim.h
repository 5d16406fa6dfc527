/* The C++ test shim for the Metal Shading Language: the types, math and
 * collective operations MSL kernels use, in standard C++20, and the
 * interface between compiled kernels and the driver (driver.cpp) that runs
 * them. Test-only: internal/metalshim compiles a generated kernels.metal
 * with it (metal_stdlib maps MSL's keywords and attributes onto this) so
 * the Go conformance harness runs the Metal backend's logic on Linux.
 * Nothing here reaches a Mac. */
#pragma once
#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>

typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;

#define IRC_SHIM_EXPORT extern "C" __attribute__((visibility("default")))

struct uint3 {
	uint x, y, z;
	uint operator[](int i) const { return i == 0 ? x : i == 1 ? y : z; }
};
struct uint4 {
	uint x, y, z, w;
};

namespace irc_shim {

/* f16 bits to float: exact for every f16, subnormals included. */
inline float half_to_float(ushort h) {
	uint s = (uint)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
	if (e == 0x1fu)
		bits = s | 0x7f800000u | (m << 13);
	else if (e == 0u) {
		float f = (float)m * 5.9604644775390625e-8f;
		std::memcpy(&bits, &f, 4);
		bits |= s;
	} else
		bits = s | ((e + 112u) << 23) | (m << 13);
	float out;
	std::memcpy(&out, &bits, 4);
	return out;
}

/* float to f16 bits, rounding to nearest even as Metal's conversion does:
 * past the largest half it is infinity, NaNs stay quiet NaNs. */
inline ushort float_to_half(float f) {
	uint x;
	std::memcpy(&x, &f, 4);
	uint sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
	if (a > 0x7f800000u) return (ushort)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
	if (a >= 0x477ff000u) return (ushort)(sign | 0x7c00u); /* 65520 and up */
	if (a < 0x38800000u) { /* below 2^-14: a subnormal half (exact scaling, then RNE) */
		float v;
		std::memcpy(&v, &a, 4);
		return (ushort)(sign | (uint)std::nearbyintf(v * 16777216.0f));
	}
	uint h = (((a >> 23) - 112u) << 10) | ((a >> 13) & 0x3ffu), rest = a & 0x1fffu;
	if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
	return (ushort)(sign | h);
}

/* The thread-index attributes' binding slots (buffers are 0..30). */
enum : int { kGid = -1, kLid = -2, kGrp = -3 };

/* bound returns the address of what slot holds in the running dispatch
 * (a buffer's base pointer, the scalar struct, a thread index), after
 * checking that the kernel's parameter (size bytes, a pointer or not) is
 * what the host bound there: a wrong [[buffer(n)]] aborts the test. */
void* bound(int slot, std::size_t size, bool pointer);

/* A [[buffer(n)]]-style attribute becomes the default argument
 * irc_bind[irc_slot[n]], which converts to the parameter's type by
 * reading the dispatch's binding table. */
struct Binding {
	int slot;
	template <class T>
	operator T&() const {
		return *static_cast<T*>(bound(slot, sizeof(T), std::is_pointer<T>::value));
	}
};
struct Slots {
	constexpr Binding operator[](int s) const { return Binding{s}; }
};
struct Table {
	constexpr Binding operator[](Binding b) const { return b; }
};

/* A kernel entry point of the library, called with its default arguments
 * on each thread (fiber) of each threadgroup. */
struct Entry {
	const char* name;
	void (*run)();
};

} // namespace irc_shim

/* MSL's collective operations, run by the driver: a barrier parks the
 * calling fiber until every live thread of the threadgroup waits; a
 * simd_* operation parks it until every live lane of its simdgroup (32
 * consecutive threads) waits on the same operation. */
namespace metal {
enum class mem_flags { mem_none = 0, mem_device = 1, mem_threadgroup = 2, mem_texture = 4 };
void threadgroup_barrier(mem_flags);
float simd_sum(float v);
float simd_max(float v);
float simd_shuffle_xor(float v, ushort mask);

struct half {
	ushort bits;
	half() = default;
	explicit half(float f) : bits(irc_shim::float_to_half(f)) {}
	explicit operator float() const { return irc_shim::half_to_float(bits); }
};

template <class T, class U>
inline T as_type(U u) {
	static_assert(sizeof(T) == sizeof(U), "as_type between types of different sizes");
	T t;
	std::memcpy(&t, &u, sizeof t);
	return t;
}

/* Math in float, as Metal's overloads are (C's are double). */
inline float exp(float x) { return std::exp(x); }
inline float log(float x) { return std::log(x); }
inline float sqrt(float x) { return std::sqrt(x); }
inline float cos(float x) { return std::cos(x); }
inline float sin(float x) { return std::sin(x); }
inline float pow(float x, float y) { return std::pow(x, y); }
inline float fmax(float x, float y) { return std::fmax(x, y); }
inline float fmin(float x, float y) { return std::fmin(x, y); }
template <class T>
inline T min(T a, T b) { return b < a ? b : a; }
template <class T>
inline T max(T a, T b) { return a < b ? b : a; }
} // namespace metal
