import { ImagesPage } from "../../features/images/ImagesPage";

export default function Images() {
  return <ImagesPage />;
}
