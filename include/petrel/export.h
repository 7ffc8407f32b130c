/* Symbol visibility for the public API: the shared library exports only
 * what is marked PETREL_API. */
#ifndef PETREL_EXPORT_H
#define PETREL_EXPORT_H

#if defined(PETREL_BUILDING_SHARED) && (defined(__GNUC__) || defined(__clang__))
#define PETREL_API __attribute__((visibility("default")))
#else
#define PETREL_API
#endif

#endif
