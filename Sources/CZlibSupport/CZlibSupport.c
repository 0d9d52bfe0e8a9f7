#include "CZlibSupport.h"

int handson_inflate_init(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}

int handson_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -15);
}
