export * from "./ipynb";
export { parseIpynb, validateIpynb, NotebookFormatError, type IpynbValidation } from "./validate";
export { fromIpynb, toIpynb, serializeIpynb, type FromIpynbOptions, type ExportableNotebook } from "./convert";
export { joinLines, splitLines, joinBundle, isJsonMime } from "./multiline";
export { normalizeIpynb } from "./normalize";
export {
  parameterLiteral,
  parameterLiterals,
  pythonLiteral,
  injectParameters,
  hasTag,
  ParameterError,
  PARAMETERS_TAG,
  INJECTED_TAG,
} from "./parameters";
export { errorStopsRun, RAISES_EXCEPTION_TAG, type RunErrorPolicy } from "./run-errors";
