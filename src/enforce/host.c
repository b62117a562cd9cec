/* host.c: see host.h. */
#include "enforce/host.h"

#include <net/if.h>

int
host_note_devices(struct policy *p)
{
	size_t i;
	int missing = 0;

	for (i = 0; i < p->niface; i++) {
		const struct iface *ifc = p->ifaces[i];

		if (ifc->device == NULL || if_nametoindex(ifc->device) != 0)
			continue;
		missing++;
		diag_add(&p->diags, DIAG_NOTE, ifc->loc, "device %s (interface "
		    "%s) does not exist on this host now: its rules take "
		    "effect when it appears", ifc->device, ifc->name);
	}
	return missing;
}
