// The tool version recorded in every manifest.
export const TOOL_VERSION = '0.1.0'
