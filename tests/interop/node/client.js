'use strict';
// node-soap client from the WSDL wadows serves (tests/interop/harness.py and plans.py: command lines and report).
// usage: node client.js rad69|rendered|docinfo ARGS...
// node-soap reads the SOAP 1.2 binding but writes SOAP 1.1 unless told (forceSoap12Headers); it can send an
// MTOM request (forceMTOM) and split an MTOM response (parseReponseAttachments, spelled so by node-soap), but
// it leaves each xop:Include in the result for the caller to follow. It has no WS-Addressing: the headers IHE
// asks for are added by hand, as an integrator does.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const soap = require('soap');

const WSA = 'http://www.w3.org/2005/08/addressing';
const ACTIONS = {
  rad69: 'urn:ihe:rad:2009:RetrieveImagingDocumentSet',
  rendered: 'urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSet',
  docinfo: 'urn:wado:2011:RetrieveImagingDocumentSetInformation',
};

function asList(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

// The StudyRequest > SeriesRequest > document tree every request has; docRequest(sop) is the document's element,
// named `element` (its keys in schema order: node-soap writes them as given).
function studyRequests(documents, element, docRequest) {
  const studies = new Map();
  for (const doc of documents) {
    const [study, series, sop] = doc.split('/');
    if (!studies.has(study)) studies.set(study, new Map());
    const bySeries = studies.get(study);
    if (!bySeries.has(series)) bySeries.set(series, []);
    bySeries.get(series).push(docRequest(sop));
  }
  return [...studies].map(([study, bySeries]) => ({
    attributes: { studyInstanceUID: study },
    SeriesRequest: [...bySeries].map(([series, docs]) => ({
      attributes: { seriesInstanceUID: series },
      [element]: docs,
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

function registryLines(registry) {
  const lines = [`status ${registry.attributes.status}`];
  for (const e of asList(registry.RegistryErrorList && registry.RegistryErrorList.RegistryError)) {
    lines.push(`error ${e.attributes.errorCode} ${e.attributes.severity} ${e.attributes.location}`);
  }
  return lines;
}

// The ihe:Document of a response: node-soap leaves the xop:Include, followed here to its MIME part.
function documentData(parts, d) {
  const href = d.Document.Include.attributes.href;
  const data = parts.get(decodeURIComponent(href.replace(/^cid:/i, '')));
  if (!data) throw new Error(`no MIME part for ${href}`);
  return data;
}

// argv: wsdl endpoint outdir anonymize repository transferSyntax study/series/sop...
function rad69([, , , anonymize, repository, transferSyntax, ...documents]) {
  return {
    StudyRequest: studyRequests(documents, 'DocumentRequest', (sop) => ({
      RepositoryUniqueId: repository, DocumentUniqueId: sop, ...(anonymize === 'yes' ? { Anonymize: 'yes' } : {}),
    })),
    TransferSyntaxUIDList: { TransferSyntaxUID: [transferSyntax] },
  };
}

// argv: wsdl endpoint outdir anonymize repository rows columns contentType study/series/sop...
// node-soap finds no namespace for the elements of an xs:group (the rendering parameters: wado:Rows ...) and
// writes them in the namespace of the element before (ihe:DocumentUniqueId); a "prefix:" key, with a prefix the
// WSDL declares, is how node-soap is told the namespace.
function rendered([, , , anonymize, repository, rows, columns, contentType, ...documents]) {
  return {
    StudyRequest: studyRequests(documents, 'RenderedDocumentRequest', (sop) => ({
      RepositoryUniqueId: repository, DocumentUniqueId: sop, 'wado:Rows': rows, 'wado:Columns': columns,
      ...(anonymize === 'yes' ? { 'wado:Anonymize': 'yes' } : {}),
      ContentTypeList: { ContentType: [contentType] },
    })),
  };
}

// argv: wsdl endpoint outdir anonymize repository N xpath1..xpathN study/series/sop...
function docinfo([, , , anonymize, repository, n, ...rest]) {
  const count = Number(n);
  return {
    StudyRequest: studyRequests(rest.slice(count), 'DocumentRequest', (sop) => ({
      RepositoryUniqueId: repository, DocumentUniqueId: sop,
    })),
    XPathList: { XPath: rest.slice(0, count) },
    ...(anonymize === 'yes' ? { Anonymize: 'yes' } : {}),
  };
}

// One XPath answer item: wado:Text, or the Native DICOM Model element node-soap parsed from the wildcard
// (an object under its local name, its XML attributes under `attributes`).
function itemLine(uid, k, item) {
  if (item.Text !== undefined) return `xpath ${uid} ${k} text ${item.Text}`;
  const name = Object.keys(item).find((key) => key !== 'attributes' && key !== '$xml');
  const attrs = (item[name] && item[name].attributes) || {};
  return `xpath ${uid} ${k} element ${name} ${attrs.tag}`;
}

const OPERATIONS = {
  rad69: { method: 'RetrieveImagingDocumentSetAsync', build: rad69 },
  rendered: { method: 'RetrieveRenderedImagingDocumentSetAsync', build: rendered },
  docinfo: { method: 'RetrieveImagingDocumentSetInformationAsync', build: docinfo },
};

async function main([operation, ...argv]) {
  const op = OPERATIONS[operation];
  const [wsdl, , outdir] = argv;
  const client = await soap.createClientAsync(wsdl, { forceSoap12Headers: true, parseReponseAttachments: true });
  client.addSoapHeader(`<wsa:Action xmlns:wsa="${WSA}" soap:mustUnderstand="true">${ACTIONS[operation]}</wsa:Action>`);
  client.addSoapHeader(`<wsa:MessageID xmlns:wsa="${WSA}">urn:uuid:${crypto.randomUUID()}</wsa:MessageID>`);
  const [result, , , , attachments] = await client[op.method](op.build(argv), { forceMTOM: true });
  const parts = attachmentsByContentId(attachments);
  const lines = registryLines(result.RegistryResponse);
  for (const d of asList(result.DocumentResponse)) {
    fs.writeFileSync(path.join(outdir, d.DocumentUniqueId), documentData(parts, d));
    lines.push(`document ${d.DocumentUniqueId} ${d.mimeType}`);
  }
  for (const d of asList(result.RenderedDocumentResponse)) {
    fs.writeFileSync(path.join(outdir, d.SourceDocumentUniqueId), documentData(parts, d));
    lines.push(`rendered ${d.SourceDocumentUniqueId} ${d.mimeType} ${d.Rows} ${d.Columns}`);
  }
  for (const d of asList(result.DocumentInformationResponse)) {
    lines.push(`document ${d.DocumentUniqueId} -`);
    asList(d.XPathResponseList.XPathResponse).forEach((x, k) => {
      for (const item of asList(x && x.Item)) lines.push(itemLine(d.DocumentUniqueId, k + 1, item));
    });
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  if (err && err.body) console.error(String(err.body).slice(0, 2000));
  process.exit(1);
});
