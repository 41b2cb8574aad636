/* runtime/dtype.c -- type lookups over the traits tables: names, validity,
** row sizes, and tl_dtype_traits (the table of the kernel variant that
** runtime/quant/select.c chose; the tables are in runtime/quant/traits.c). */
#include "runtime/dtype.h"

#include "runtime/quant.h"

#include <strings.h>

/* Names and layouts are the same in every variant: the scalar table answers. */
static const tl_type_traits *layouts(void) {
    return tl_dtype_traits_table(false);
}

bool tl_dtype_is_valid(int id) {
    return id >= 0 && id < TL_DTYPE_COUNT && layouts()[id].name != NULL;
}

void tl_runtime_init(void) {
    (void)tl_kernels_selected();
}

const tl_type_traits *tl_dtype_traits(tl_dtype dt) {
    return tl_dtype_is_valid((int)dt) ? &tl_kernels_selected()[dt] : NULL;
}

const char *tl_dtype_name(tl_dtype dt) {
    return tl_dtype_is_valid((int)dt) ? layouts()[dt].name : "?";
}

bool tl_dtype_from_name(const char *name, tl_dtype *out) {
    for (int i = 0; i < TL_DTYPE_COUNT; i++) {
        if (layouts()[i].name && strcasecmp(layouts()[i].name, name) == 0) {
            *out = (tl_dtype)i;
            return true;
        }
    }
    return false;
}

size_t tl_dtype_row_size(tl_dtype dt, int64_t n) {
    const tl_type_traits *t = tl_dtype_traits(dt);
    if (!t || n < 0 || n % t->blck != 0) return 0;
    return (size_t)(n / t->blck) * t->size;
}
