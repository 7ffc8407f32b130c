/* Names, messages, classes and alerts of the error codes, all generated
 * from PETREL_ERROR_MAP in petrel/error.h. */
#include <petrel/error.h>

#include <stddef.h>

typedef struct error_info {
    int code;
    const char *name;
    const char *message;
    petrel_error_class cls;
    int alert;
} error_info;

static const error_info error_table[] = {
#define PETREL_ERROR_ROW_(name, value, cls, alert, msg) \
    {value, "PETREL_" #name, msg, PETREL_ERRCLASS_##cls, alert},
    PETREL_ERROR_MAP(PETREL_ERROR_ROW_)
#undef PETREL_ERROR_ROW_
};

static const error_info *error_find(int code)
{
    for (size_t i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++) {
        if (error_table[i].code == code)
            return &error_table[i];
    }
    return NULL;
}

const char *petrel_strerror(int code)
{
    const error_info *e = error_find(code);
    return e ? e->message : "unknown error";
}

const char *petrel_error_name(int code)
{
    const error_info *e = error_find(code);
    return e ? e->name : "PETREL_ERR_UNKNOWN";
}

petrel_error_class petrel_error_class_of(int code)
{
    if (code >= 0)
        return PETREL_ERRCLASS_NONE;
    const error_info *e = error_find(code);
    return e ? e->cls : PETREL_ERRCLASS_INTERNAL;
}

int petrel_error_alert(int code)
{
    if (code >= 0)
        return 0;
    const error_info *e = error_find(code);
    return e ? e->alert : 80; /* internal_error */
}

const char *petrel_alert_name(int description)
{
    /* AlertDescription (RFC 5246 §7.2, RFC 8446 §6, RFC 4279 §2). */
    switch (description) {
    case 0:
        return "close_notify";
    case 10:
        return "unexpected_message";
    case 20:
        return "bad_record_mac";
    case 22:
        return "record_overflow";
    case 40:
        return "handshake_failure";
    case 42:
        return "bad_certificate";
    case 43:
        return "unsupported_certificate";
    case 44:
        return "certificate_revoked";
    case 45:
        return "certificate_expired";
    case 46:
        return "certificate_unknown";
    case 47:
        return "illegal_parameter";
    case 48:
        return "unknown_ca";
    case 49:
        return "access_denied";
    case 50:
        return "decode_error";
    case 51:
        return "decrypt_error";
    case 70:
        return "protocol_version";
    case 71:
        return "insufficient_security";
    case 80:
        return "internal_error";
    case 86:
        return "inappropriate_fallback";
    case 90:
        return "user_canceled";
    case 100:
        return "no_renegotiation";
    case 109:
        return "missing_extension";
    case 110:
        return "unsupported_extension";
    case 112:
        return "unrecognized_name";
    case 115:
        return "unknown_psk_identity";
    case 116:
        return "certificate_required";
    case 120:
        return "no_application_protocol";
    default:
        return "unknown_alert";
    }
}
