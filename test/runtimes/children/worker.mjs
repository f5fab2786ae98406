// The matrix's S3 check as a Worker: GET / runs it with the S3_* bindings and answers the
// result as JSON. test/runtimes/children/workerd.mjs bundles it and runs it in workerd.
import { s3OptionsFrom, s3RoundTrip } from "./roundtrip.mjs";

export default {
  async fetch(_request, env) {
    try {
      return Response.json({ runtime: navigator.userAgent, ...(await s3RoundTrip(s3OptionsFrom(env))) });
    } catch (error) {
      return Response.json({ error: `${error.name}: ${error.message}` }, { status: 500 });
    }
  },
};
