// Debian's libxml2 headers pull in the system ICU headers, which clash with Foundation's own
// ICU ("'UErrorCode' has different definitions"). Read the version header first, then switch
// the ICU part off before the other headers see it.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/entities.h>
