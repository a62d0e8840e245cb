export * from "./ipynb";
export { parseIpynb, validateIpynb, NotebookFormatError, type IpynbValidation } from "./validate";
export { fromIpynb, toIpynb, serializeIpynb, type FromIpynbOptions, type ExportableNotebook } from "./convert";
export { joinLines, splitLines, joinBundle, isJsonMime } from "./multiline";
export { normalizeIpynb } from "./normalize";
export { parameterLiteral, injectParameters, ParameterError, PARAMETERS_TAG, INJECTED_TAG } from "./parameters";
