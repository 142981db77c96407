/* gSOAP client from the WSDL wadows serves (tests/interop/harness.py and plans.py: command lines and report).
 * usage: client rad69|rendered|docinfo ARGS...  (ARGS as the harness gives them to every client)
 * SOAP 1.2 (the WSDL's binding: wsdl2h imports soap12.h), MTOM both ways (SOAP_ENC_MTOM: the request goes out
 * as an XOP package, the response's xop:Include parts land in each Document's xsd__base64Binary), and
 * WS-Addressing 1.0 through gSOAP's wsa plugin, as wsdl2h's policy notes for this binding ask. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soapH.h"
#include "ImagingDocumentSource_USCOREBinding.nsmap"
#include "plugin/wsaapi.h"

#define RAD69_ACTION "urn:ihe:rad:2009:RetrieveImagingDocumentSet"
#define RENDERED_ACTION "urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSet"
#define DOCINFO_ACTION "urn:wado:2011:RetrieveImagingDocumentSetInformation"

/* The STUDY/SERIES/SOP arguments grouped as the StudyRequest > SeriesRequest > document tree every request
 * has, request order kept; each operation then fills its own generated structs from it. */
typedef struct { const char *uid; int nsops; const char **sops; } Series;
typedef struct { const char *uid; int nseries; Series *series; } Study;
typedef struct { int nstudies; Study *studies; } Tree;

static Tree group(struct soap *soap, char **uids, int n) {
  Tree t = {0, soap_malloc(soap, n * sizeof(Study))};
  for (int i = 0; i < n; i++) {
    char *study_uid = soap_strdup(soap, uids[i]);
    char *series_uid = strchr(study_uid, '/');
    *series_uid++ = '\0';
    char *sop_uid = strchr(series_uid, '/');
    *sop_uid++ = '\0';
    Study *st = NULL;
    for (int k = 0; k < t.nstudies && !st; k++)
      if (!strcmp(t.studies[k].uid, study_uid)) st = &t.studies[k];
    if (!st) {
      st = &t.studies[t.nstudies++];
      *st = (Study){study_uid, 0, soap_malloc(soap, n * sizeof(Series))};
    }
    Series *se = NULL;
    for (int k = 0; k < st->nseries && !se; k++)
      if (!strcmp(st->series[k].uid, series_uid)) se = &st->series[k];
    if (!se) {
      se = &st->series[st->nseries++];
      *se = (Series){series_uid, 0, soap_malloc(soap, n * sizeof(char *))};
    }
    se->sops[se->nsops++] = sop_uid;
  }
  return t;
}

/* Allocate n zeroed elements of a generated struct. */
#define NEW(soap, type, n) ((type *)memset(soap_malloc((soap), (n) * sizeof(type)), 0, (n) * sizeof(type)))

/* Each operation's generated StudyRequest/SeriesRequest structs are other types of the same shape: fill them
 * from the tree; DOC(doc, sop) fills one document element (DocT) of the SeriesRequest's DOCS array. */
#define FILL_TREE(soap, t, req, StudyT, SeriesT, DocT, DOCS, NDOCS, DOC)                  \
  do {                                                                                    \
    (req).__sizeStudyRequest = (t).nstudies;                                              \
    (req).StudyRequest = NEW(soap, StudyT, (t).nstudies);                                 \
    for (int i_ = 0; i_ < (t).nstudies; i_++) {                                           \
      StudyT *st_ = &(req).StudyRequest[i_];                                              \
      st_->studyInstanceUID = (char *)(t).studies[i_].uid;                                \
      st_->__sizeSeriesRequest = (t).studies[i_].nseries;                                 \
      st_->SeriesRequest = NEW(soap, SeriesT, (t).studies[i_].nseries);                   \
      for (int j_ = 0; j_ < (t).studies[i_].nseries; j_++) {                              \
        Series *from_ = &(t).studies[i_].series[j_];                                      \
        SeriesT *se_ = &st_->SeriesRequest[j_];                                           \
        se_->seriesInstanceUID = (char *)from_->uid;                                      \
        se_->NDOCS = from_->nsops;                                                        \
        se_->DOCS = NEW(soap, DocT, from_->nsops);                                        \
        for (int k_ = 0; k_ < from_->nsops; k_++) DOC((&se_->DOCS[k_]), from_->sops[k_]); \
      }                                                                                   \
    }                                                                                     \
  } while (0)

static void report_registry(struct rs__RegistryResponseType *registry) {
  printf("status %s\n", registry->status);
  if (registry->RegistryErrorList) {
    for (int i = 0; i < registry->RegistryErrorList->__sizeRegistryError; i++) {
      struct _rs__RegistryError *e = &registry->RegistryErrorList->RegistryError_[i];
      printf("error %s %s %s\n", e->errorCode, e->severity ? e->severity : "-", e->location ? e->location : "-");
    }
  }
}

static int write_file(const char *outdir, const char *name, const unsigned char *data, int size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", outdir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t written = fwrite(data, 1, (size_t)size, f);
  return fclose(f) || written != (size_t)size ? -1 : 0;
}

/* argv: wsdl endpoint outdir anonymize repository transferSyntax study/series/sop... */
static int rad69(struct soap *soap, char **a, int n) {
  typedef struct _iherad__RetrieveImagingDocumentSetRequestType_StudyRequest StudyRequest;
  typedef struct _iherad__RetrieveImagingDocumentSetRequestType_StudyRequest_SeriesRequest SeriesRequest;
  typedef struct _iherad__RetrieveImagingDocumentSetRequestType_StudyRequest_SeriesRequest_DocumentRequest
      DocumentRequest;
  Tree t = group(soap, a + 6, n - 6);
  struct iherad__RetrieveImagingDocumentSetRequestType req;
  struct ihe__RetrieveDocumentSetResponseType resp;
  memset(&req, 0, sizeof req);
#define DOC(doc, sop) \
  ((doc)->ihe__RepositoryUniqueId = a[4], (doc)->ihe__DocumentUniqueId = (char *)(sop), \
   (doc)->wado__Anonymize = !strcmp(a[3], "yes") ? "yes" : NULL)
  FILL_TREE(soap, t, req, StudyRequest, SeriesRequest, DocumentRequest, ihe__DocumentRequest, __sizeDocumentRequest,
            DOC);
#undef DOC
  req.TransferSyntaxUIDList.__sizeTransferSyntaxUID = 1;
  req.TransferSyntaxUIDList.TransferSyntaxUID = &a[5];
  if (soap_wsa_request(soap, soap_wsa_rand_uuid(soap), a[1], RAD69_ACTION) ||
      soap_call___iherad__RetrieveImagingDocumentSet(soap, a[1], RAD69_ACTION, &req, &resp))
    return soap_print_fault(soap, stderr), 1;
  report_registry(resp.rs__RegistryResponse);
  if (resp.__RetrieveDocumentSetResponseType_sequence) {
    struct __ihe__RetrieveDocumentSetResponseType_sequence *docs = resp.__RetrieveDocumentSetResponseType_sequence;
    for (int i = 0; i < docs->__sizeDocumentResponse; i++) {
      struct _ihe__RetrieveDocumentSetResponseType_DocumentResponse *d = &docs->DocumentResponse[i];
      if (write_file(a[2], d->DocumentUniqueId, d->Document.__ptr, d->Document.__size))
        return perror(d->DocumentUniqueId), 1;
      printf("document %s %s\n", d->DocumentUniqueId, d->mimeType);
    }
  }
  return 0;
}

/* argv: wsdl endpoint outdir anonymize repository rows columns contentType study/series/sop... */
static int rendered(struct soap *soap, char **a, int n) {
  typedef struct _wado__RetrieveRenderedImagingDocumentSetRequestType_StudyRequest StudyRequest;
  typedef struct _wado__RetrieveRenderedImagingDocumentSetRequestType_StudyRequest_SeriesRequest SeriesRequest;
  Tree t = group(soap, a + 8, n - 8);
  struct wado__RetrieveRenderedImagingDocumentSetRequestType req;
  struct wado__RetrieveRenderedImagingDocumentSetResponseType resp;
  memset(&req, 0, sizeof req);
#define DOC(doc, sop)                                                                                      \
  ((doc)->ihe__RepositoryUniqueId = a[4], (doc)->ihe__DocumentUniqueId = (char *)(sop), (doc)->Rows = a[5],  \
   (doc)->Columns = a[6], (doc)->Anonymize = !strcmp(a[3], "yes") ? "yes" : NULL,                             \
   (doc)->ContentTypeList.__sizeContentType = 1, (doc)->ContentTypeList.ContentType = &a[7])
  FILL_TREE(soap, t, req, StudyRequest, SeriesRequest, struct wado__RenderedDocumentRequestType,
            RenderedDocumentRequest, __sizeRenderedDocumentRequest, DOC);
#undef DOC
  if (soap_wsa_request(soap, soap_wsa_rand_uuid(soap), a[1], RENDERED_ACTION) ||
      soap_call___iherad__RetrieveRenderedImagingDocumentSet(soap, a[1], RENDERED_ACTION, &req, &resp))
    return soap_print_fault(soap, stderr), 1;
  report_registry(resp.rs__RegistryResponse);
  for (int i = 0; i < resp.__sizeRenderedDocumentResponse; i++) {
    struct wado__RenderedDocumentResponseType *d = &resp.RenderedDocumentResponse[i];
    if (write_file(a[2], d->SourceDocumentUniqueId, d->ihe__Document.__ptr, d->ihe__Document.__size))
      return perror(d->SourceDocumentUniqueId), 1;
    printf("rendered %s %s %s %s\n", d->SourceDocumentUniqueId, d->ihe__mimeType, d->Rows ? d->Rows : "-",
           d->Columns ? d->Columns : "-");
  }
  return 0;
}

/* An xs:any item reaches gSOAP as its XML text (char *__any): the element's local name and its tag attribute. */
static void print_element(const char *uid, int k, const char *xml) {
  const char *name = xml + strspn(xml, " \t\r\n<");
  size_t len = strcspn(name, " \t\r\n/>");
  const char *colon = memchr(name, ':', len);
  if (colon) len -= (size_t)(colon + 1 - name), name = colon + 1;
  const char *tag = strstr(xml, " tag=\"");
  printf("xpath %s %d element %.*s %.8s\n", uid, k, (int)len, name, tag ? tag + 6 : "-");
}

/* argv: wsdl endpoint outdir anonymize repository N xpath1..xpathN study/series/sop... */
static int docinfo(struct soap *soap, char **a, int n) {
  typedef struct _wado__RetrieveImagingDocumentSetInformationRequestType_StudyRequest StudyRequest;
  typedef struct _wado__RetrieveImagingDocumentSetInformationRequestType_StudyRequest_SeriesRequest SeriesRequest;
  int nx = atoi(a[5]);
  Tree t = group(soap, a + 6 + nx, n - 6 - nx);
  struct wado__RetrieveImagingDocumentSetInformationRequestType req;
  struct wado__RetrieveImagingDocumentSetInformationResponseType resp;
  memset(&req, 0, sizeof req);
#define DOC(doc, sop) ((doc)->ihe__RepositoryUniqueId = a[4], (doc)->ihe__DocumentUniqueId = (char *)(sop))
  FILL_TREE(soap, t, req, StudyRequest, SeriesRequest, struct wado__DocumentInformationRequestType, DocumentRequest,
            __sizeDocumentRequest, DOC);
#undef DOC
  req.XPathList.__sizeXPath = nx;
  req.XPathList.XPath = &a[6];
  req.Anonymize = !strcmp(a[3], "yes") ? "yes" : NULL;
  if (soap_wsa_request(soap, soap_wsa_rand_uuid(soap), a[1], DOCINFO_ACTION) ||
      soap_call___iherad__RetrieveImagingDocumentSetInformation(soap, a[1], DOCINFO_ACTION, &req, &resp))
    return soap_print_fault(soap, stderr), 1;
  report_registry(resp.rs__RegistryResponse);
  for (int i = 0; i < resp.__sizeDocumentInformationResponse; i++) {
    struct wado__DocumentInformationResponseType *d = &resp.DocumentInformationResponse[i];
    printf("document %s -\n", d->ihe__DocumentUniqueId);
    for (int k = 0; k < d->XPathResponseList.__sizeXPathResponse; k++) {
      struct wado__XPathResponseType *x = &d->XPathResponseList.XPathResponse[k];
      for (int m = 0; m < x->__sizeItem; m++) {
        if (x->Item[m].Text) printf("xpath %s %d text %s\n", d->ihe__DocumentUniqueId, k + 1, x->Item[m].Text);
        else print_element(d->ihe__DocumentUniqueId, k + 1, x->Item[m].__any ? x->Item[m].__any : "");
      }
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 9) {
    fprintf(stderr, "usage: %s rad69|rendered|docinfo wsdl endpoint outdir anonymize repository ...\n", argv[0]);
    return 2;
  }
  struct soap *soap = soap_new1(SOAP_ENC_MTOM | SOAP_C_UTFSTRING);
  soap_register_plugin(soap, soap_wsa);
  /* The requests carry no binary data, and gSOAP packages a message as XOP only when it has an attachment or
   * when MIME is switched on for it; this is how a gSOAP client sends MTOM as IHE ITI TF-2 Appendix V asks. */
  soap_set_mime(soap, NULL, NULL);
  int rc = !strcmp(argv[1], "rendered") ? rendered(soap, argv + 2, argc - 2)
           : !strcmp(argv[1], "docinfo") ? docinfo(soap, argv + 2, argc - 2)
                                         : rad69(soap, argv + 2, argc - 2);
  soap_destroy(soap);
  soap_end(soap);
  soap_free(soap);
  return rc;
}
