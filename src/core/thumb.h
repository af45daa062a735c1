/*
 * thumb.h - image thumbnails for file fields, made with libgd.
 *
 * A size is "WxH" (cover, cropped from the centre), "WxHt" / "WxHb"
 * (cropped from the top / bottom), "WxHf" (fit inside, no cropping and
 * no enlarging), "0xH" or "Wx0" (resized keeping the aspect ratio).
 * Thumbs are made once, on first request, beside the original as
 * thumbs_<name>/<size>_<name> with an .attrs sidecar; JPEG stays JPEG,
 * GIF stays GIF (first frame), everything else becomes PNG.
 */
#ifndef BS_THUMB_H
#define BS_THUMB_H

#include <stdbool.h>

typedef struct bs_thumb_size {
    int w, h;
    char mode; /* 'c'entre, 't'op, 'b'ottom, 'f'it */
} bs_thumb_size;

/* Parses a size (^(\d+)x(\d+)(t|b|f)?$, not both 0, each at most
 * 10000). Returns false for anything else. */
bool bs_thumb_parse(const char *s, bs_thumb_size *out);

/* Whether content_type is one thumbs are made of (png, jpeg, gif,
 * webp). */
bool bs_thumb_supported(const char *content_type);

/* Makes the thumb of the image file src (of content_type) at dst,
 * unless dst exists already. Concurrent calls for the same dst make it
 * once: later callers wait for the first. Returns 0 or BS_EIO (the
 * image cannot be decoded or written). Any thread. */
int bs_thumb_ensure(const char *src, const char *content_type,
                    const bs_thumb_size *size, const char *dst);

/* The geometry of a thumb: the output size (*ow, *oh) and the source
 * rectangle (*sx, *sy, *swr, *shr) cut from an sw x sh image. */
void bs_thumb_geometry(int sw, int sh, const bs_thumb_size *size, int *ow,
                       int *oh, int *sx, int *sy, int *swr, int *shr);

#endif
