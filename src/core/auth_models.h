/*
 * auth_models.h - the model hooks of the auth system collections.
 */
#ifndef BS_AUTH_MODELS_H
#define BS_AUTH_MODELS_H

#include "basalt.h"

/* Binds the built-in auth model handlers (superusers always verified,
 * the last superuser kept, tokenKey renewal, the cascade to _otps,
 * _mfas, _authOrigins and _externalAuths, the checks on those four) on
 * app's record hooks. Called once by bs_app_new, before any other
 * handler can be bound; 0 or BS_ENOMEM. */
int bs_auth_models_bind(bs_app *app);

#endif
