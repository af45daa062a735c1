/*
 * thumb.c - thumbnails with libgd.
 *
 * Generation runs on the worker thread of the first request that needs
 * a thumb. The in-flight destinations are kept in a small list under one
 * mutex: a second request for the same thumb waits on the condition
 * variable until the first has finished, then serves the file it wrote.
 * A thumb is written to a temporary name and renamed into place, so a
 * reader never sees half an image.
 *
 * libgd is opened with the first thumb (see base/dl.h): with the codecs
 * it pulls in (AVIF, HEIF, X11 pixmaps, fonts) it would otherwise hold
 * several megabytes of every server's memory from start-up on.
 */
#include "thumb.h"

#include <errno.h>
#include <gd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/dl.h"
#include "../base/util.h"
#include "basalt.h"
#include "files.h"

#define MAX_SIDE 10000

bool bs_thumb_parse(const char *s, bs_thumb_size *out)
{
    if (!s)
        return false;
    long v[2];
    const char *p = s;
    for (int i = 0; i < 2; i++) {
        if (*p < '0' || *p > '9')
            return false;
        long n = 0;
        while (*p >= '0' && *p <= '9') {
            n = n * 10 + (*p - '0');
            if (n > MAX_SIDE)
                return false;
            p++;
        }
        v[i] = n;
        if (i == 0 && *p++ != 'x')
            return false;
    }
    char mode = 'c';
    if (*p == 't' || *p == 'b' || *p == 'f')
        mode = *p++;
    if (*p || (v[0] == 0 && v[1] == 0))
        return false;
    out->w = (int)v[0];
    out->h = (int)v[1];
    out->mode = mode;
    return true;
}

bool bs_thumb_supported(const char *t)
{
    static const char *types[] = {"image/png", "image/jpg", "image/jpeg",
                                  "image/gif", "image/webp"};
    size_t n = t ? strcspn(t, ";") : 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i]) == n && strncasecmp(t, types[i], n) == 0)
            return true;
    return false;
}

static int iround(double x)
{
    return (int)(x + 0.5);
}

void bs_thumb_geometry(int sw, int sh, const bs_thumb_size *z, int *ow,
                       int *oh, int *sx, int *sy, int *swr, int *shr)
{
    *sx = *sy = 0;
    *swr = sw;
    *shr = sh;
    if (z->w == 0 || z->h == 0) {
        /* Resize keeping the aspect ratio. */
        *ow = z->w ? z->w : iround((double)sw * z->h / sh);
        *oh = z->h ? z->h : iround((double)sh * z->w / sw);
    } else if (z->mode == 'f') {
        /* Fit inside, never enlarged. */
        if (sw <= z->w && sh <= z->h) {
            *ow = sw;
            *oh = sh;
        } else {
            double s = (double)z->w / sw < (double)z->h / sh
                           ? (double)z->w / sw
                           : (double)z->h / sh;
            *ow = iround(sw * s);
            *oh = iround(sh * s);
        }
    } else {
        /* Cover, then crop the source rectangle of the output's ratio. */
        *ow = z->w;
        *oh = z->h;
        double s = (double)z->w / sw > (double)z->h / sh ? (double)z->w / sw
                                                          : (double)z->h / sh;
        *swr = iround(z->w / s);
        *shr = iround(z->h / s);
        if (*swr > sw)
            *swr = sw;
        if (*shr > sh)
            *shr = sh;
        /* A ratio far from the source's rounds a side to nothing on a
         * small image: keep at least one source pixel. */
        if (*swr < 1)
            *swr = 1;
        if (*shr < 1)
            *shr = 1;
        *sx = (sw - *swr) / 2;
        *sy = z->mode == 't'   ? 0
              : z->mode == 'b' ? sh - *shr
                               : (sh - *shr) / 2;
    }
    if (*ow < 1)
        *ow = 1;
    if (*oh < 1)
        *oh = 1;
}

/* The functions of libgd that thumbs call, set by open_gd. */
static struct {
    __typeof__(gdImageCreateFromPng) *from_png;
    __typeof__(gdImageCreateFromJpeg) *from_jpeg;
    __typeof__(gdImageCreateFromGif) *from_gif;
    __typeof__(gdImageCreateFromWebp) *from_webp;
    __typeof__(gdImageCreateTrueColor) *create;
    __typeof__(gdImageAlphaBlending) *alpha_blending;
    __typeof__(gdImageSaveAlpha) *save_alpha;
    __typeof__(gdImageCopyResampled) *resample;
    __typeof__(gdImageJpegPtr) *jpeg;
    __typeof__(gdImageGifPtr) *gif;
    __typeof__(gdImagePngPtr) *png;
    __typeof__(gdFree) *free;
    __typeof__(gdImageDestroy) *destroy;
} gd;

static pthread_once_t gd_once = PTHREAD_ONCE_INIT;
static bool gd_ok;

static void open_gd(void)
{
    const bs_dl_sym syms[] = {
        {"gdImageCreateFromPng", (void **)&gd.from_png},
        {"gdImageCreateFromJpeg", (void **)&gd.from_jpeg},
        {"gdImageCreateFromGif", (void **)&gd.from_gif},
        {"gdImageCreateFromWebp", (void **)&gd.from_webp},
        {"gdImageCreateTrueColor", (void **)&gd.create},
        {"gdImageAlphaBlending", (void **)&gd.alpha_blending},
        {"gdImageSaveAlpha", (void **)&gd.save_alpha},
        {"gdImageCopyResampled", (void **)&gd.resample},
        {"gdImageJpegPtr", (void **)&gd.jpeg},
        {"gdImageGifPtr", (void **)&gd.gif},
        {"gdImagePngPtr", (void **)&gd.png},
        {"gdFree", (void **)&gd.free},
        {"gdImageDestroy", (void **)&gd.destroy},
    };
    char msg[512];
    gd_ok = bs_dl_load("libgd.so.3", syms, sizeof syms / sizeof syms[0],
                       msg, sizeof msg) == 0;
    if (!gd_ok)
        bs_log('W', "Thumbs are unavailable: %s", msg);
}

static gdImagePtr load(const char *src, const char *t)
{
    FILE *f = fopen(src, "rbe");
    if (!f)
        return NULL;
    gdImagePtr im = NULL;
    size_t n = strcspn(t, ";");
    if (strncasecmp(t, "image/png", n) == 0)
        im = gd.from_png(f);
    else if (strncasecmp(t, "image/jpeg", n) == 0 ||
             strncasecmp(t, "image/jpg", n) == 0)
        im = gd.from_jpeg(f);
    else if (strncasecmp(t, "image/gif", n) == 0)
        im = gd.from_gif(f);
    else if (strncasecmp(t, "image/webp", n) == 0)
        im = gd.from_webp(f);
    fclose(f);
    return im;
}

static int make(const char *src, const char *t, const bs_thumb_size *z,
                const char *dst)
{
    pthread_once(&gd_once, open_gd);
    if (!gd_ok)
        return BS_EIO;
    gdImagePtr im = load(src, t);
    if (!im)
        return BS_EIO;
    int sw = gdImageSX(im), sh = gdImageSY(im);
    int ow, oh, sx, sy, swr, shr;
    bs_thumb_geometry(sw, sh, z, &ow, &oh, &sx, &sy, &swr, &shr);
    gdImagePtr out = gd.create(ow, oh);
    int rc = BS_EIO;
    if (out) {
        gd.alpha_blending(out, 0);
        gd.save_alpha(out, 1);
        gd.resample(out, im, 0, 0, sx, sy, ow, oh, swr, shr);
        size_t n = strcspn(t, ";");
        bool jpeg = strncasecmp(t, "image/jpeg", n) == 0 ||
                    strncasecmp(t, "image/jpg", n) == 0;
        bool gif = strncasecmp(t, "image/gif", n) == 0;
        int size = 0;
        void *data = jpeg ? gd.jpeg(out, &size, 90)
                     : gif ? gd.gif(out, &size)
                           : gd.png(out, &size);
        if (data && size > 0)
            rc = bs_files_put_data(NULL, dst, data, (size_t)size,
                                   jpeg  ? "image/jpeg"
                                   : gif ? "image/gif"
                                         : "image/png",
                                   NULL);
        gd.free(data);
        gd.destroy(out);
    }
    gd.destroy(im);
    return rc;
}

/* The destinations being generated. */
typedef struct inflight {
    struct inflight *next;
    char *dst;
} inflight;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static inflight *running;

static bool is_running(const char *dst)
{
    for (inflight *i = running; i; i = i->next)
        if (strcmp(i->dst, dst) == 0)
            return true;
    return false;
}

int bs_thumb_ensure(const char *src, const char *t, const bs_thumb_size *z,
                    const char *dst)
{
    struct stat sb;
    pthread_mutex_lock(&lock);
    while (is_running(dst))
        pthread_cond_wait(&done, &lock);
    if (stat(dst, &sb) == 0) {
        pthread_mutex_unlock(&lock);
        return 0;
    }
    inflight me = {running, strdup(dst)};
    if (!me.dst) {
        pthread_mutex_unlock(&lock);
        return BS_ENOMEM;
    }
    running = &me;
    pthread_mutex_unlock(&lock);

    int rc = make(src, t, z, dst);

    pthread_mutex_lock(&lock);
    for (inflight **p = &running; *p; p = &(*p)->next) {
        if (*p == &me) {
            *p = me.next;
            break;
        }
    }
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    free(me.dst);
    return rc;
}
