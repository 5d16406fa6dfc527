/* The C++ test shim's driver: runs one dispatch of a compiled MSL kernel
 * over host buffers. Each threadgroup runs on one OS thread with its
 * threads as ucontext fibers, started in forward or reverse order (a race
 * between threads shows in one order or the other); a fiber runs until it
 * finishes or parks in a barrier or a simd_* operation, and the scheduler
 * releases a barrier when every live thread of the group waits at it, and
 * a simdgroup's operation when every live lane of the 32 waits on the same
 * one. Anything else left waiting is a deadlock, reported as an error.
 * Threadgroups are spread over the machine's cores. */
#include "shim.h"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" const irc_shim::Entry irc_shim_kernels[];

namespace {

enum State { Runnable, AtBarrier, AtSimd, Done };
enum SimdOp { OpSum, OpMax, OpXor };
constexpr int kSimd = 32;
/* Fiber stacks: large enough for the CPU-shaped kernels' private arrays
 * (tens of KiB), with a guard page below each. */
constexpr std::size_t kStack = 256 * 1024;

struct Dispatch {
	void (*run)();
	void* const* bufs;
	int nbuf;
	const void* scalars;
	int scalar_bytes;
	uint3 groups, tpg;
	bool reverse;
	std::mutex mu;
	std::string err;
	std::atomic<bool> failed{false};
	void fail(const std::string& msg) {
		std::lock_guard<std::mutex> l(mu);
		if (err.empty()) err = msg;
		failed = true;
	}
};

struct Fiber {
	ucontext_t ctx;
	State state;
	uint3 gid, lid, grp;
	SimdOp op;
	ushort arg;
	float in, out;
};

struct Worker {
	Dispatch* d = nullptr;
	ucontext_t sched;
	std::vector<Fiber> fibers;
	char* stacks = nullptr;
	std::size_t nstacks = 0;
	Fiber* cur = nullptr;
	~Worker() {
		if (stacks) munmap(stacks, nstacks * (kStack + (std::size_t)getpagesize()));
	}
	void reserve(std::size_t n) {
		if (n <= nstacks) return;
		std::size_t page = (std::size_t)getpagesize(), each = kStack + page;
		if (stacks) munmap(stacks, nstacks * each);
		void* p = mmap(nullptr, n * each, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			std::perror("irc metal shim: fiber stacks");
			std::abort();
		}
		stacks = static_cast<char*>(p);
		nstacks = n;
		for (std::size_t i = 0; i < n; i++) mprotect(stacks + i * each, page, PROT_NONE);
	}
	char* stack(std::size_t i) { return stacks + i * (kStack + (std::size_t)getpagesize()) + getpagesize(); }
};

thread_local Worker* worker;

void park(State s) {
	Fiber* f = worker->cur;
	f->state = s;
	swapcontext(&f->ctx, &worker->sched);
}

void fiber_main() {
	worker->d->run();
	worker->cur->state = Done; /* uc_link returns to the scheduler */
}

float collective(SimdOp op, float v, ushort arg) {
	Fiber* f = worker->cur;
	f->op = op;
	f->in = v;
	f->arg = arg;
	park(AtSimd);
	return f->out;
}

/* Releases simdgroup lanes [first, first + n) if every live one waits on
 * the same operation; false if they do not all wait yet. */
bool release_simd(Dispatch* d, Fiber* lanes, int n) {
	int live = 0, waiting = 0;
	for (int i = 0; i < n; i++) {
		if (lanes[i].state != Done) live++;
		if (lanes[i].state == AtSimd) waiting++;
	}
	if (waiting == 0 || waiting != live) return false;
	Fiber* first = nullptr;
	for (int i = 0; i < n; i++) {
		Fiber& f = lanes[i];
		if (f.state != AtSimd) continue;
		if (!first) first = &f;
		if (f.op != first->op || (f.op == OpXor && f.arg != first->arg)) {
			d->fail("simdgroup lanes wait on different simd operations");
			return false;
		}
	}
	float total = 0.0f, top = -INFINITY;
	for (int i = 0; i < n; i++) {
		if (lanes[i].state != AtSimd) continue;
		total += lanes[i].in;
		top = std::fmax(top, lanes[i].in);
	}
	for (int i = 0; i < n; i++) {
		Fiber& f = lanes[i];
		if (f.state != AtSimd) continue;
		switch (f.op) {
		case OpSum: f.out = total; break;
		case OpMax: f.out = top; break;
		case OpXor: {
			int j = i ^ f.arg;
			if (j >= n || lanes[j].state != AtSimd) {
				d->fail("simd_shuffle_xor reads a lane that is not there");
				return false;
			}
			f.out = lanes[j].in;
			break;
		}
		}
	}
	for (int i = 0; i < n; i++)
		if (lanes[i].state == AtSimd) lanes[i].state = Runnable;
	return true;
}

/* Runs threadgroup grp of d on this OS thread. */
void run_group(Dispatch* d, uint3 grp) {
	Worker& w = *worker;
	int n = (int)(d->tpg.x * d->tpg.y * d->tpg.z);
	w.reserve((std::size_t)n);
	w.fibers.resize((std::size_t)n);
	for (int i = 0; i < n; i++) {
		Fiber& f = w.fibers[(std::size_t)i];
		f.lid = {(uint)i % d->tpg.x, (uint)i / d->tpg.x % d->tpg.y, (uint)i / (d->tpg.x * d->tpg.y)};
		f.grp = grp;
		f.gid = {grp.x * d->tpg.x + f.lid.x, grp.y * d->tpg.y + f.lid.y, grp.z * d->tpg.z + f.lid.z};
		f.state = Runnable;
		getcontext(&f.ctx);
		f.ctx.uc_stack.ss_sp = w.stack((std::size_t)i);
		f.ctx.uc_stack.ss_size = kStack;
		f.ctx.uc_link = &w.sched;
		makecontext(&f.ctx, fiber_main, 0);
	}
	for (;;) {
		for (int k = 0; k < n; k++) {
			Fiber& f = w.fibers[(std::size_t)(d->reverse ? n - 1 - k : k)];
			if (f.state != Runnable) continue;
			w.cur = &f;
			swapcontext(&w.sched, &f.ctx);
		}
		int live = 0, barrier = 0;
		for (Fiber& f : w.fibers) {
			live += f.state != Done;
			barrier += f.state == AtBarrier;
		}
		if (live == 0) return;
		bool released = false;
		for (int s = 0; s < n; s += kSimd) released |= release_simd(d, &w.fibers[(std::size_t)s], std::min(kSimd, n - s));
		if (d->failed) return;
		if (!released && barrier == live) {
			for (Fiber& f : w.fibers) f.state = Runnable;
			released = true;
		}
		if (!released) {
			d->fail("deadlock: threads wait at a barrier while others wait in a simd operation, or lanes of a simdgroup at a barrier");
			return;
		}
	}
}

} // namespace

namespace irc_shim {

void* bound(int slot, std::size_t size, bool pointer) {
	Dispatch* d = worker->d;
	Fiber* f = worker->cur;
	const char* why = nullptr;
	if (slot < 0 && (size != sizeof(uint3) || pointer))
		why = "a thread index is not a uint3";
	else if (slot == kGid)
		return &f->gid;
	else if (slot == kLid)
		return &f->lid;
	else if (slot == kGrp)
		return &f->grp;
	else if (slot < 0 || slot > d->nbuf)
		why = "no such binding slot";
	else if (slot < d->nbuf && !pointer)
		why = "a buffer is bound where the kernel reads a value";
	else if (slot == d->nbuf && (pointer || (int)size != d->scalar_bytes))
		why = "the scalars' struct differs from the bytes bound";
	if (why) {
		std::fprintf(stderr, "irc metal shim: [[buffer(%d)]] (%zu bytes): %s (%d buffers, then %d bytes of scalars)\n", slot, size, why, d->nbuf, d->scalar_bytes);
		std::abort();
	}
	return slot < d->nbuf ? const_cast<void**>(&d->bufs[slot]) : const_cast<void*>(d->scalars);
}

} // namespace irc_shim

namespace metal {
void threadgroup_barrier(mem_flags) { park(AtBarrier); }
float simd_sum(float v) { return collective(OpSum, v, 0); }
float simd_max(float v) { return collective(OpMax, v, 0); }
float simd_shuffle_xor(float v, ushort mask) { return collective(OpXor, v, mask); }
} // namespace metal

/* The index of kernel name in the library, or -1. */
IRC_SHIM_EXPORT int irc_shim_find(const char* name) {
	for (int i = 0; irc_shim_kernels[i].name; i++)
		if (std::strcmp(irc_shim_kernels[i].name, name) == 0) return i;
	return -1;
}

/* Runs kernel over groups threadgroups of tpg threads: buffers bound to
 * slots 0..nbuf-1, scalar_bytes of scalars to slot nbuf. Returns 0, or
 * -1 with the reason in err. */
IRC_SHIM_EXPORT int irc_shim_launch(int kernel, void* const* bufs, int nbuf, const void* scalars, int scalar_bytes,
                                    const unsigned* groups, const unsigned* tpg, int reverse, char* err, int errlen) {
	Dispatch d;
	d.run = irc_shim_kernels[kernel].run;
	d.bufs = bufs;
	d.nbuf = nbuf;
	d.scalars = scalars;
	d.scalar_bytes = scalar_bytes;
	d.groups = {groups[0], groups[1], groups[2]};
	d.tpg = {tpg[0], tpg[1], tpg[2]};
	d.reverse = reverse != 0;
	long total = (long)groups[0] * groups[1] * groups[2];
	std::atomic<long> next{0};
	auto work = [&] {
		Worker w;
		worker = &w;
		w.d = &d;
		for (long g; !d.failed && (g = next++) < total;)
			run_group(&d, {(uint)(g % groups[0]), (uint)(g / groups[0] % groups[1]), (uint)(g / ((long)groups[0] * groups[1]))});
		worker = nullptr;
	};
	long cores = std::max(1L, (long)std::thread::hardware_concurrency());
	std::vector<std::thread> pool;
	for (long i = 1; i < std::min(cores, total); i++) pool.emplace_back(work);
	work();
	for (std::thread& t : pool) t.join();
	if (d.failed) {
		std::snprintf(err, (std::size_t)errlen, "%s", d.err.c_str());
		return -1;
	}
	return 0;
}
