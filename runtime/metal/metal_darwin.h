/* The Objective-C layer of the Metal runtime (metal_darwin.m): plain C
 * functions over opaque handles, so the Go side (device_darwin.go) needs
 * no Objective-C. Errors come back as 0 or NULL with the reason in err. */
#include <stdint.h>

void* irc_mtl_open(int index, char* name, int namelen, char* err, int errlen);
void irc_mtl_close(void* dev);
int irc_mtl_build(void* dev, const char* src, double* ms, char* err, int errlen);
void* irc_mtl_pipeline(void* dev, const char* name, int* max_threads, char* err, int errlen);
void* irc_mtl_alloc(void* dev, int64_t bytes);
void* irc_mtl_contents(void* buf);
void irc_mtl_free(void* buf);
int irc_mtl_dispatch(void* dev, void* pipe, void* const* bufs, int nbuf, const void* scalars, int nscalar,
                     const uint32_t* groups, const uint32_t* threads);
int irc_mtl_blit(void* dev, void* dst, void* src, int64_t bytes);
int irc_mtl_commit(void* dev, double* gpu_ms, char* err, int errlen);
int64_t irc_mtl_max_buffer(void* dev);
int64_t irc_mtl_working_set(void* dev);
