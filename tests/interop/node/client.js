'use strict';
// node-soap client from the WSDL wadows serves (tests/interop/harness.py: command line and report).
// node-soap reads the SOAP 1.2 binding but writes SOAP 1.1 unless told (forceSoap12Headers); it can send an
// MTOM request (forceMTOM) and split an MTOM response (parseReponseAttachments, spelled so by node-soap), but
// it leaves each xop:Include in the result for the caller to follow. It has no WS-Addressing: the headers IHE
// asks for are added by hand, as an integrator does.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const soap = require('soap');

const WSA = 'http://www.w3.org/2005/08/addressing';
const ACTION = 'urn:ihe:rad:2009:RetrieveImagingDocumentSet';

function asList(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function studyRequests(repository, anonymize, documents) {
  const studies = new Map();
  for (const doc of documents) {
    const [study, series, sop] = doc.split('/');
    if (!studies.has(study)) studies.set(study, new Map());
    const bySeries = studies.get(study);
    if (!bySeries.has(series)) bySeries.set(series, []);
    const request = { RepositoryUniqueId: repository, DocumentUniqueId: sop };
    if (anonymize) request.Anonymize = 'yes';
    bySeries.get(series).push(request);
  }
  return [...studies].map(([study, bySeries]) => ({
    attributes: { studyInstanceUID: study },
    SeriesRequest: [...bySeries].map(([series, docs]) => ({
      attributes: { seriesInstanceUID: series },
      DocumentRequest: docs,
    })),
  }));
}

// RFC 2392: a cid: URL is the Content-ID without angle brackets, percent-encoded.
function attachmentsByContentId(mtom) {
  const parts = new Map();
  for (const part of (mtom && mtom.parts) || []) {
    const header = Object.keys(part.headers).find((h) => h.toLowerCase() === 'content-id');
    if (header) parts.set(part.headers[header].trim().replace(/^<|>$/g, ''), part.body);
  }
  return parts;
}

async function main(argv) {
  const [wsdl, , outdir, anonymize, repository, transferSyntax, ...documents] = argv;
  const client = await soap.createClientAsync(wsdl, { forceSoap12Headers: true, parseReponseAttachments: true });
  client.addSoapHeader(`<wsa:Action xmlns:wsa="${WSA}" soap:mustUnderstand="true">${ACTION}</wsa:Action>`);
  client.addSoapHeader(`<wsa:MessageID xmlns:wsa="${WSA}">urn:uuid:${crypto.randomUUID()}</wsa:MessageID>`);
  const [result, , , , attachments] = await client.RetrieveImagingDocumentSetAsync({
    StudyRequest: studyRequests(repository, anonymize === 'yes', documents),
    TransferSyntaxUIDList: { TransferSyntaxUID: [transferSyntax] },
  }, { forceMTOM: true });
  const parts = attachmentsByContentId(attachments);
  const registry = result.RegistryResponse;
  const lines = [`status ${registry.attributes.status}`];
  for (const e of asList(registry.RegistryErrorList && registry.RegistryErrorList.RegistryError)) {
    lines.push(`error ${e.attributes.errorCode} ${e.attributes.severity} ${e.attributes.location}`);
  }
  for (const d of asList(result.DocumentResponse)) {
    const href = d.Document.Include.attributes.href;
    const data = parts.get(decodeURIComponent(href.replace(/^cid:/i, '')));
    if (!data) throw new Error(`no MIME part for ${href}`);
    fs.writeFileSync(path.join(outdir, d.DocumentUniqueId), data);
    lines.push(`document ${d.DocumentUniqueId} ${d.mimeType}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  if (err && err.body) console.error(String(err.body).slice(0, 2000));
  process.exit(1);
});
