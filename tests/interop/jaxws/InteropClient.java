/**
 * JAX-WS RI client from the WSDL wadows serves, RetrieveImagingDocumentSet (RAD-69), on OurPort's features.
 */
public final class InteropClient {
    public static void main(String[] a) throws Exception {
        Rad69Call.run(a, OurPort.open(a[0]), doc -> doc.setAnonymize("yes"));
    }
}
