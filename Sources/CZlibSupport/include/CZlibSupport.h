#ifndef HANDSON_CZLIBSUPPORT_H
#define HANDSON_CZLIBSUPPORT_H
#include <zlib.h>

/// inflateInit2(stream, 15 + 32): a gzip or zlib stream, the header detected (a macro Swift cannot call).
int handson_inflate_init(z_stream *stream);

/// inflateInit2(stream, -15): raw deflate data without a header, as a zip entry holds it.
int handson_inflate_init_raw(z_stream *stream);

#endif
