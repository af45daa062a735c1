/*
 * jsc.h - JavaScriptCore, opened when the first context is made.
 *
 * The program does not link libjavascriptcoregtk: a server without
 * pb_hooks or pb_migrations files never maps it, which spares the
 * resident memory of its relocations and of the libraries it pulls in
 * (ICU, libstdc++, GLib), several megabytes at every start. The files of
 * src/js call the engine's functions by their usual names; below, each
 * name stands for the matching pointer of bsj_jsc, which bsj_jsc_open
 * sets. Include this header instead of <JavaScriptCore/JavaScript.h>.
 */
#ifndef BS_JS_JSC_H
#define BS_JS_JSC_H

#include <JavaScriptCore/JavaScript.h>
#include <stdbool.h>

/* JavaScriptCore exports these but its shipped headers do not declare
 * them (they live in the private JSContextRefPrivate.h). The callback
 * runs on the thread executing script once the limit (seconds of CPU
 * time since the script was entered) is reached; returning true
 * terminates the script. Returning false lets it go on, but the watchdog
 * stays disarmed unless the callback sets the limit again. */
void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group,
                                         double limit,
                                         bool (*callback)(JSContextRef ctx,
                                                          void *data),
                                         void *data);
void JSContextGroupClearExecutionTimeLimit(JSContextGroupRef group);

/* The engine's functions that src/js calls. */
#define BSJ_JSC_FUNCTIONS(X) \
    X(JSClassCreate) \
    X(JSContextGetGlobalObject) \
    X(JSContextGroupClearExecutionTimeLimit) \
    X(JSContextGroupCreate) \
    X(JSContextGroupRelease) \
    X(JSContextGroupSetExecutionTimeLimit) \
    X(JSEvaluateScript) \
    X(JSGlobalContextCreateInGroup) \
    X(JSGlobalContextRelease) \
    X(JSObjectCallAsFunction) \
    X(JSObjectGetPrivate) \
    X(JSObjectGetProperty) \
    X(JSObjectGetPropertyAtIndex) \
    X(JSObjectGetTypedArrayByteLength) \
    X(JSObjectGetTypedArrayBytesPtr) \
    X(JSObjectIsFunction) \
    X(JSObjectMake) \
    X(JSObjectMakeArray) \
    X(JSObjectMakeError) \
    X(JSObjectMakeFunctionWithCallback) \
    X(JSObjectMakeTypedArray) \
    X(JSObjectSetProperty) \
    X(JSStringCreateWithUTF8CString) \
    X(JSStringGetMaximumUTF8CStringSize) \
    X(JSStringGetUTF8CString) \
    X(JSStringRelease) \
    X(JSValueCreateJSONString) \
    X(JSValueGetTypedArrayType) \
    X(JSValueIsArray) \
    X(JSValueIsBoolean) \
    X(JSValueIsNull) \
    X(JSValueIsNumber) \
    X(JSValueIsObject) \
    X(JSValueIsString) \
    X(JSValueIsUndefined) \
    X(JSValueMakeBoolean) \
    X(JSValueMakeFromJSONString) \
    X(JSValueMakeNull) \
    X(JSValueMakeNumber) \
    X(JSValueMakeString) \
    X(JSValueMakeUndefined) \
    X(JSValueProtect) \
    X(JSValueToBoolean) \
    X(JSValueToNumber) \
    X(JSValueToStringCopy) \
    X(JSValueUnprotect)

#define BSJ_JSC_POINTER(name) __typeof__(name) *p_##name;
struct bsj_jsc {
    BSJ_JSC_FUNCTIONS(BSJ_JSC_POINTER)
};
#undef BSJ_JSC_POINTER

/* The engine's functions once bsj_jsc_open succeeded; written once, then
 * only read. */
extern struct bsj_jsc bsj_jsc;

/* Opens the engine's library the first time (any thread; later calls
 * return at once). Returns 0, or -1 with the reason in msg (cap bytes)
 * when the library cannot be opened: no engine function may be called
 * then. */
int bsj_jsc_open(char *msg, size_t cap);

#define JSClassCreate (*bsj_jsc.p_JSClassCreate)
#define JSContextGetGlobalObject (*bsj_jsc.p_JSContextGetGlobalObject)
#define JSContextGroupClearExecutionTimeLimit (*bsj_jsc.p_JSContextGroupClearExecutionTimeLimit)
#define JSContextGroupCreate (*bsj_jsc.p_JSContextGroupCreate)
#define JSContextGroupRelease (*bsj_jsc.p_JSContextGroupRelease)
#define JSContextGroupSetExecutionTimeLimit (*bsj_jsc.p_JSContextGroupSetExecutionTimeLimit)
#define JSEvaluateScript (*bsj_jsc.p_JSEvaluateScript)
#define JSGlobalContextCreateInGroup (*bsj_jsc.p_JSGlobalContextCreateInGroup)
#define JSGlobalContextRelease (*bsj_jsc.p_JSGlobalContextRelease)
#define JSObjectCallAsFunction (*bsj_jsc.p_JSObjectCallAsFunction)
#define JSObjectGetPrivate (*bsj_jsc.p_JSObjectGetPrivate)
#define JSObjectGetProperty (*bsj_jsc.p_JSObjectGetProperty)
#define JSObjectGetPropertyAtIndex (*bsj_jsc.p_JSObjectGetPropertyAtIndex)
#define JSObjectGetTypedArrayByteLength (*bsj_jsc.p_JSObjectGetTypedArrayByteLength)
#define JSObjectGetTypedArrayBytesPtr (*bsj_jsc.p_JSObjectGetTypedArrayBytesPtr)
#define JSObjectIsFunction (*bsj_jsc.p_JSObjectIsFunction)
#define JSObjectMake (*bsj_jsc.p_JSObjectMake)
#define JSObjectMakeArray (*bsj_jsc.p_JSObjectMakeArray)
#define JSObjectMakeError (*bsj_jsc.p_JSObjectMakeError)
#define JSObjectMakeFunctionWithCallback (*bsj_jsc.p_JSObjectMakeFunctionWithCallback)
#define JSObjectMakeTypedArray (*bsj_jsc.p_JSObjectMakeTypedArray)
#define JSObjectSetProperty (*bsj_jsc.p_JSObjectSetProperty)
#define JSStringCreateWithUTF8CString (*bsj_jsc.p_JSStringCreateWithUTF8CString)
#define JSStringGetMaximumUTF8CStringSize (*bsj_jsc.p_JSStringGetMaximumUTF8CStringSize)
#define JSStringGetUTF8CString (*bsj_jsc.p_JSStringGetUTF8CString)
#define JSStringRelease (*bsj_jsc.p_JSStringRelease)
#define JSValueCreateJSONString (*bsj_jsc.p_JSValueCreateJSONString)
#define JSValueGetTypedArrayType (*bsj_jsc.p_JSValueGetTypedArrayType)
#define JSValueIsArray (*bsj_jsc.p_JSValueIsArray)
#define JSValueIsBoolean (*bsj_jsc.p_JSValueIsBoolean)
#define JSValueIsNull (*bsj_jsc.p_JSValueIsNull)
#define JSValueIsNumber (*bsj_jsc.p_JSValueIsNumber)
#define JSValueIsObject (*bsj_jsc.p_JSValueIsObject)
#define JSValueIsString (*bsj_jsc.p_JSValueIsString)
#define JSValueIsUndefined (*bsj_jsc.p_JSValueIsUndefined)
#define JSValueMakeBoolean (*bsj_jsc.p_JSValueMakeBoolean)
#define JSValueMakeFromJSONString (*bsj_jsc.p_JSValueMakeFromJSONString)
#define JSValueMakeNull (*bsj_jsc.p_JSValueMakeNull)
#define JSValueMakeNumber (*bsj_jsc.p_JSValueMakeNumber)
#define JSValueMakeString (*bsj_jsc.p_JSValueMakeString)
#define JSValueMakeUndefined (*bsj_jsc.p_JSValueMakeUndefined)
#define JSValueProtect (*bsj_jsc.p_JSValueProtect)
#define JSValueToBoolean (*bsj_jsc.p_JSValueToBoolean)
#define JSValueToNumber (*bsj_jsc.p_JSValueToNumber)
#define JSValueToStringCopy (*bsj_jsc.p_JSValueToStringCopy)
#define JSValueUnprotect (*bsj_jsc.p_JSValueUnprotect)

#endif
