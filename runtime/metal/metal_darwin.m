//go:build darwin && cgo

/* The Metal runtime's Objective-C layer: a device and its queue, the
 * library compiled from source at load, one pipeline per kernel, buffers
 * in shared (unified) memory, and one command buffer at a time holding
 * every dispatch since the last commit in one serial compute encoder (its
 * dispatches run in order, each seeing the last one's writes). The Go side
 * commits when it reads, writes or times something. Only a Mac compiles
 * this; nothing here has run on one yet. */
#import <Foundation/Foundation.h>
#import <Metal/Metal.h>
#include <string.h>
#include "metal_darwin.h"

@interface IRCDevice : NSObject
@property(strong) id<MTLDevice> dev;
@property(strong) id<MTLCommandQueue> queue;
@property(strong) id<MTLLibrary> lib;
@property(strong) id<MTLCommandBuffer> cmd;
@property(strong) id<MTLComputeCommandEncoder> enc;
@end
@implementation IRCDevice
@end

static void say(char* err, int errlen, NSString* msg) { snprintf(err, (size_t)errlen, "%s", msg.UTF8String); }

void* irc_mtl_open(int index, char* name, int namelen, char* err, int errlen) {
	@autoreleasepool {
		NSArray<id<MTLDevice>>* all = MTLCopyAllDevices();
		if (index < 0 || (NSUInteger)index >= all.count) {
			say(err, errlen, [NSString stringWithFormat:@"no Metal device %d (%lu found)", index, (unsigned long)all.count]);
			return NULL;
		}
		IRCDevice* d = [IRCDevice new];
		d.dev = all[(NSUInteger)index];
		d.queue = [d.dev newCommandQueue];
		snprintf(name, (size_t)namelen, "%s", d.dev.name.UTF8String);
		return (__bridge_retained void*)d;
	}
}

void irc_mtl_close(void* dev) {
	IRCDevice* d = (__bridge_transfer IRCDevice*)dev;
	d.enc = nil;
	d.cmd = nil;
}

/* The library from the embedded source, without fast math: the kernels
 * compare against infinities and rely on IEEE exp, as the other backends
 * do. ms is the compile's wall time. */
int irc_mtl_build(void* dev, const char* src, double* ms, char* err, int errlen) {
	@autoreleasepool {
		IRCDevice* d = (__bridge IRCDevice*)dev;
		MTLCompileOptions* opts = [MTLCompileOptions new];
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
		opts.fastMathEnabled = NO;
#pragma clang diagnostic pop
		NSError* e = nil;
		NSDate* start = [NSDate date];
		d.lib = [d.dev newLibraryWithSource:[NSString stringWithUTF8String:src] options:opts error:&e];
		*ms = -[start timeIntervalSinceNow] * 1000.0;
		if (!d.lib) {
			say(err, errlen, e.localizedDescription);
			return 0;
		}
		return 1;
	}
}

void* irc_mtl_pipeline(void* dev, const char* name, int* max_threads, char* err, int errlen) {
	@autoreleasepool {
		IRCDevice* d = (__bridge IRCDevice*)dev;
		id<MTLFunction> f = [d.lib newFunctionWithName:[NSString stringWithUTF8String:name]];
		if (!f) {
			say(err, errlen, [NSString stringWithFormat:@"the library has no kernel %s", name]);
			return NULL;
		}
		NSError* e = nil;
		id<MTLComputePipelineState> p = [d.dev newComputePipelineStateWithFunction:f error:&e];
		if (!p) {
			say(err, errlen, e.localizedDescription);
			return NULL;
		}
		*max_threads = (int)p.maxTotalThreadsPerThreadgroup;
		return (__bridge_retained void*)p;
	}
}

/* Shared storage: the CPU and GPU see the same memory, so reads and
 * writes are plain copies once the GPU is done. */
void* irc_mtl_alloc(void* dev, int64_t bytes) {
	IRCDevice* d = (__bridge IRCDevice*)dev;
	id<MTLBuffer> b = [d.dev newBufferWithLength:(NSUInteger)bytes options:MTLResourceStorageModeShared | MTLResourceHazardTrackingModeTracked];
	return b ? (__bridge_retained void*)b : NULL;
}

void* irc_mtl_contents(void* buf) { return ((__bridge id<MTLBuffer>)buf).contents; }

void irc_mtl_free(void* buf) { (void)(__bridge_transfer id<MTLBuffer>)buf; }

static id<MTLComputeCommandEncoder> encoder(IRCDevice* d) {
	if (!d.cmd) d.cmd = [d.queue commandBuffer];
	if (!d.enc) d.enc = [d.cmd computeCommandEncoderWithDispatchType:MTLDispatchTypeSerial];
	return d.enc;
}

/* One dispatch: buffers at slots 0..nbuf-1, the scalars' struct at nbuf
 * (codegen/metal's signatures; runtime/metal.Bind lays them out). */
int irc_mtl_dispatch(void* dev, void* pipe, void* const* bufs, int nbuf, const void* scalars, int nscalar,
                     const uint32_t* groups, const uint32_t* threads) {
	IRCDevice* d = (__bridge IRCDevice*)dev;
	id<MTLComputeCommandEncoder> enc = encoder(d);
	[enc setComputePipelineState:(__bridge id<MTLComputePipelineState>)pipe];
	for (int i = 0; i < nbuf; i++) [enc setBuffer:(__bridge id<MTLBuffer>)bufs[i] offset:0 atIndex:(NSUInteger)i];
	[enc setBytes:scalars length:(NSUInteger)nscalar atIndex:(NSUInteger)nbuf];
	[enc dispatchThreadgroups:MTLSizeMake(groups[0], groups[1], groups[2]) threadsPerThreadgroup:MTLSizeMake(threads[0], threads[1], threads[2])];
	return 1;
}

int irc_mtl_blit(void* dev, void* dst, void* src, int64_t bytes) {
	IRCDevice* d = (__bridge IRCDevice*)dev;
	if (d.enc) {
		[d.enc endEncoding];
		d.enc = nil;
	}
	if (!d.cmd) d.cmd = [d.queue commandBuffer];
	id<MTLBlitCommandEncoder> b = [d.cmd blitCommandEncoder];
	[b copyFromBuffer:(__bridge id<MTLBuffer>)src sourceOffset:0 toBuffer:(__bridge id<MTLBuffer>)dst destinationOffset:0 size:(NSUInteger)bytes];
	[b endEncoding];
	return 1;
}

/* Ends the encoder, commits the command buffer and waits for it; gpu_ms
 * is the GPU's own time for it (its start and end timestamps). */
int irc_mtl_commit(void* dev, double* gpu_ms, char* err, int errlen) {
	@autoreleasepool {
		IRCDevice* d = (__bridge IRCDevice*)dev;
		*gpu_ms = 0;
		if (!d.cmd) return 1;
		if (d.enc) [d.enc endEncoding];
		id<MTLCommandBuffer> cmd = d.cmd;
		d.enc = nil;
		d.cmd = nil;
		[cmd commit];
		[cmd waitUntilCompleted];
		if (cmd.status == MTLCommandBufferStatusError) {
			say(err, errlen, cmd.error.localizedDescription);
			return 0;
		}
		*gpu_ms = (cmd.GPUEndTime - cmd.GPUStartTime) * 1000.0;
		return 1;
	}
}

int64_t irc_mtl_max_buffer(void* dev) { return (int64_t)((__bridge IRCDevice*)dev).dev.maxBufferLength; }

int64_t irc_mtl_working_set(void* dev) { return (int64_t)((__bridge IRCDevice*)dev).dev.recommendedMaxWorkingSetSize; }
