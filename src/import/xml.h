/* xml.h: a config.xml read into a small tree.  xml.c is the only file
 * that talks to the XML library (expat); the rest of the import sees
 * these nodes.
 *
 * Only what a pfSense or OPNsense config needs is kept: elements, their
 * text (CDATA included, trimmed of the white space around it), and their
 * line.  Attributes are ignored.  A document type declaration (and so any
 * entity of its own) is refused: no DTD is loaded, no entity expanded,
 * nothing fetched.  Limits: XML_MAX_SIZE bytes, XML_MAX_DEPTH levels,
 * XML_MAX_ELEMENTS elements, XML_MAX_TEXT bytes of text in one element.
 */
#ifndef MOAT_XML_H
#define MOAT_XML_H

#include <stddef.h>

#include "base/arena.h"

#define XML_MAX_SIZE		(32u << 20)
#define XML_MAX_DEPTH		32
#define XML_MAX_ELEMENTS	500000
#define XML_MAX_TEXT		(1u << 20)

struct xml_node {
	const char	*name;
	const char	*text;		/* "" when none */
	unsigned	 line;
	unsigned	 index;		/* 1 + the siblings of this name before it */
	unsigned	 twin;		/* 1: a later sibling has this name */
	struct xml_node	*parent;
	struct xml_node	*child;		/* first child */
	struct xml_node	*last;		/* last child */
	struct xml_node	*next;		/* next sibling */
};

/* Parse len bytes of XML into a tree in a.  NULL on a malformed or
 * refused document, with "LINE:COLUMN: reason" in err. */
struct xml_node	*xml_parse(struct arena *a, const char *buf, size_t len,
		    char *err, size_t errlen);
/* The first child of n named name, or NULL. */
struct xml_node	*xml_child(const struct xml_node *n, const char *name);
/* The text of n's child name ("" when it has none, NULL when there is no
 * such child). */
const char	*xml_text(const struct xml_node *n, const char *name);
/* The element's path, for messages: /pfsense/filter/rule[3]/source (an
 * index only where the element has siblings of its name), in a. */
const char	*xml_path(struct arena *a, const struct xml_node *n);

#endif
