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
