/* gSOAP client from the WSDL wadows serves (tests/interop/harness.py: command line and report).
 * SOAP 1.2 (the WSDL's binding: wsdl2h imports soap12.h), MTOM both ways (SOAP_ENC_MTOM: the request goes out
 * as an XOP package, the response's xop:Include parts land in each Document's xsd__base64Binary), and
 * WS-Addressing 1.0 through gSOAP's wsa plugin, as wsdl2h's policy notes for this binding ask. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soapH.h"
#include "ImagingDocumentSource_USCOREBinding.nsmap"
#include "plugin/wsaapi.h"

#define ACTION "urn:ihe:rad:2009:RetrieveImagingDocumentSet"

typedef struct _iherad__RetrieveImagingDocumentSetRequestType_StudyRequest StudyRequest;
typedef struct _iherad__RetrieveImagingDocumentSetRequestType_StudyRequest_SeriesRequest SeriesRequest;
typedef struct _iherad__RetrieveImagingDocumentSetRequestType_StudyRequest_SeriesRequest_DocumentRequest
    DocumentRequest;

/* The study (or series) with this UID among the first n, or NULL. */
static StudyRequest *find_study(StudyRequest *studies, int n, const char *uid) {
  for (int i = 0; i < n; i++)
    if (!strcmp(studies[i].studyInstanceUID, uid)) return &studies[i];
  return NULL;
}

static SeriesRequest *find_series(SeriesRequest *series, int n, const char *uid) {
  for (int i = 0; i < n; i++)
    if (!strcmp(series[i].seriesInstanceUID, uid)) return &series[i];
  return NULL;
}

/* argv: wsdl endpoint outdir anonymize repository transferSyntax study/series/sop... */
static void build_request(struct soap *soap, char **argv, int ndocs,
                          struct iherad__RetrieveImagingDocumentSetRequestType *req) {
  int anonymize = !strcmp(argv[4], "yes");
  req->StudyRequest = soap_malloc(soap, ndocs * sizeof(StudyRequest));
  for (int i = 0; i < ndocs; i++) {
    char *study_uid = soap_strdup(soap, argv[7 + i]);
    char *series_uid = strchr(study_uid, '/');
    *series_uid++ = '\0';
    char *sop_uid = strchr(series_uid, '/');
    *sop_uid++ = '\0';

    StudyRequest *study = find_study(req->StudyRequest, req->__sizeStudyRequest, study_uid);
    if (!study) {
      study = &req->StudyRequest[req->__sizeStudyRequest++];
      memset(study, 0, sizeof *study);
      study->studyInstanceUID = study_uid;
      study->SeriesRequest = soap_malloc(soap, ndocs * sizeof(SeriesRequest));
    }
    SeriesRequest *series = find_series(study->SeriesRequest, study->__sizeSeriesRequest, series_uid);
    if (!series) {
      series = &study->SeriesRequest[study->__sizeSeriesRequest++];
      memset(series, 0, sizeof *series);
      series->seriesInstanceUID = series_uid;
      series->ihe__DocumentRequest = soap_malloc(soap, ndocs * sizeof(DocumentRequest));
    }
    DocumentRequest *doc = &series->ihe__DocumentRequest[series->__sizeDocumentRequest++];
    memset(doc, 0, sizeof *doc);
    doc->ihe__RepositoryUniqueId = argv[5];
    doc->ihe__DocumentUniqueId = sop_uid;
    doc->wado__Anonymize = anonymize ? "yes" : NULL;
  }
  req->TransferSyntaxUIDList.__sizeTransferSyntaxUID = 1;
  req->TransferSyntaxUIDList.TransferSyntaxUID = &argv[6];
}

static int write_file(const char *outdir, const char *name, const unsigned char *data, int size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", outdir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t written = fwrite(data, 1, (size_t)size, f);
  return fclose(f) || written != (size_t)size ? -1 : 0;
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: %s wsdl endpoint outdir anonymize repository transferSyntax study/series/sop...\n",
            argv[0]);
    return 2;
  }
  struct soap *soap = soap_new1(SOAP_ENC_MTOM | SOAP_C_UTFSTRING);
  soap_register_plugin(soap, soap_wsa);

  struct iherad__RetrieveImagingDocumentSetRequestType req;
  struct ihe__RetrieveDocumentSetResponseType resp;
  memset(&req, 0, sizeof req);
  build_request(soap, argv, argc - 7, &req);
  /* The request carries no binary data, and gSOAP packages a message as XOP only when it has an attachment or
   * when MIME is switched on for it; this is how a gSOAP client sends MTOM as IHE ITI TF-2 Appendix V asks. */
  soap_set_mime(soap, NULL, NULL);
  if (soap_wsa_request(soap, soap_wsa_rand_uuid(soap), argv[2], ACTION) ||
      soap_call___iherad__RetrieveImagingDocumentSet(soap, argv[2], ACTION, &req, &resp)) {
    soap_print_fault(soap, stderr);
    return 1;
  }

  struct rs__RegistryResponseType *registry = resp.rs__RegistryResponse;
  printf("status %s\n", registry->status);
  if (registry->RegistryErrorList) {
    for (int i = 0; i < registry->RegistryErrorList->__sizeRegistryError; i++) {
      struct _rs__RegistryError *e = &registry->RegistryErrorList->RegistryError_[i];
      printf("error %s %s %s\n", e->errorCode, e->severity ? e->severity : "-", e->location ? e->location : "-");
    }
  }
  if (resp.__RetrieveDocumentSetResponseType_sequence) {
    struct __ihe__RetrieveDocumentSetResponseType_sequence *docs = resp.__RetrieveDocumentSetResponseType_sequence;
    for (int i = 0; i < docs->__sizeDocumentResponse; i++) {
      struct _ihe__RetrieveDocumentSetResponseType_DocumentResponse *d = &docs->DocumentResponse[i];
      if (write_file(argv[3], d->DocumentUniqueId, d->Document.__ptr, d->Document.__size)) {
        perror(d->DocumentUniqueId);
        return 1;
      }
      printf("document %s %s\n", d->DocumentUniqueId, d->mimeType);
    }
  }
  soap_destroy(soap);
  soap_end(soap);
  soap_free(soap);
  return 0;
}
