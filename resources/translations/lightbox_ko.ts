<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko">
<context>
    <name>TaskPreset</name>
    <message>
        <source>Knee osteoarthritis: Kellgren-Lawrence grade 0-4</source>
        <translation>무릎 골관절염: Kellgren-Lawrence 등급 0-4</translation>
    </message>
    <message>
        <source>Split by patient (&lt;patient&gt;&lt;L|R&gt;.png): both knees of one patient in different splits gave 99.8 % on a leaked test split against 39 % on hand-cropped images.</source>
        <translation>환자 단위로 나눕니다(&lt;patient&gt;&lt;L|R&gt;.png): 한 환자의 양쪽 무릎이 서로 다른 세트에 들어가면, 누출된 시험 세트에서는 99.8 %였지만 직접 잘라낸 영상에서는 39 %였습니다.</translation>
    </message>
    <message>
        <source>Chest X-ray: pneumonia / normal</source>
        <translation>흉부 X선: 폐렴 / 정상</translation>
    </message>
    <message>
        <source>The Kermany train/test/val folders are imbalanced (about 3:1 pneumonia) and the given val split has 16 images: weight the classes and take validation from train.</source>
        <translation>Kermany 데이터의 train/test/val 폴더는 불균형하고(폐렴이 약 3:1) 주어진 검증 세트는 16장뿐입니다: 클래스에 가중치를 주고 검증 세트는 학습 세트에서 떼어 내십시오.</translation>
    </message>
    <message>
        <source>Chest X-ray: normal / pneumonia / COVID-19 / tuberculosis</source>
        <translation>흉부 X선: 정상 / 폐렴 / COVID-19 / 결핵</translation>
    </message>
    <message>
        <source>Images of different classes often come from different hospitals: check Grad-CAM falls on the lungs, not on markers or borders.</source>
        <translation>클래스마다 다른 병원에서 온 영상인 경우가 많습니다: Grad-CAM이 마커나 가장자리가 아니라 폐 위에 나타나는지 확인하십시오.</translation>
    </message>
    <message>
        <source>Hand X-ray: sex (RSNA bone age)</source>
        <translation>손 X선: 성별 (RSNA 골연령)</translation>
    </message>
    <message>
        <source>Classes are balanced, so accuracy is a fair headline; augmentation and longer training with early stopping helped.</source>
        <translation>클래스가 균형을 이루므로 정확도를 대표 지표로 삼아도 됩니다. 데이터 증강과 조기 종료를 둔 더 긴 학습이 도움이 되었습니다.</translation>
    </message>
    <message>
        <source>Skin lesion (dermoscopy): 9 ISIC classes</source>
        <translation>피부 병변(더모스코피): ISIC 9개 클래스</translation>
    </message>
    <message>
        <source>Dermoscopic photographs have no up or down (flips in both directions are safe), but random crops and zooms cut lesions out: the skin study found they lowered accuracy. The same lesion may appear more than once and there are no patient ids.</source>
        <translation>더모스코피 사진에는 위아래가 없어 양방향 뒤집기는 안전하지만, 무작위 잘라내기와 확대는 병변을 잘라 냅니다: 피부 연구에서 이들이 정확도를 낮췄습니다. 같은 병변이 여러 번 나올 수 있고 환자 ID는 없습니다.</translation>
    </message>
    <message>
        <source>Skin photograph (clinical): 10 diseases</source>
        <translation>피부 사진(임상): 10개 질환</translation>
    </message>
    <message>
        <source>Random crops and zoom cut lesions out and lowered accuracy: the medical-safe augmentation keeps the whole field of view.</source>
        <translation>무작위 잘라내기와 확대는 병변을 잘라 내어 정확도를 낮췄습니다: 의료용 안전 증강(medical-safe)은 전체 시야를 유지합니다.</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::AnnotationLayer</name>
    <message>
        <source>Cannot read the measurements of this image (%1): %2</source>
        <translation>이 영상의 측정값을 읽을 수 없습니다 (%1): %2</translation>
    </message>
    <message>
        <source>The measurements saved for this image are damaged and were not loaded (%1)</source>
        <translation>이 영상에 저장된 측정값이 손상되어 불러오지 않았습니다 (%1)</translation>
    </message>
    <message>
        <source>The measurements of this image were saved by a newer Lightbox and were not loaded</source>
        <translation>이 영상의 측정값은 더 새로운 Lightbox에서 저장되어 불러오지 않았습니다</translation>
    </message>
    <message>
        <source>The measurements saved for this image are for another size and were not loaded</source>
        <translation>이 영상에 저장된 측정값은 다른 크기의 영상용이어서 불러오지 않았습니다</translation>
    </message>
    <message>
        <source>Cannot save the measurements of this image (%1): %2</source>
        <translation>이 영상의 측정값을 저장할 수 없습니다 (%1): %2</translation>
    </message>
    <message>
        <source>Add %1</source>
        <translation>%1 추가</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>삭제</translation>
    </message>
    <message>
        <source>Edit text</source>
        <translation>텍스트 편집</translation>
    </message>
    <message>
        <source> (at detector)</source>
        <translation> (검출기 기준)</translation>
    </message>
    <message>
        <source> (no pixel spacing)</source>
        <translation> (픽셀 간격 없음)</translation>
    </message>
    <message>
        <source> (calibrated)</source>
        <translation> (보정됨)</translation>
    </message>
    <message>
        <source>Cobb %1°</source>
        <translation>Cobb 각 %1°</translation>
    </message>
    <message>
        <source>Mean %1  SD %2%3</source>
        <translation>평균 %1  표준편차 %2%3</translation>
    </message>
    <message>
        <source>Min %1  Max %2</source>
        <translation>최소 %1  최대 %2</translation>
    </message>
    <message>
        <source>Area %1 %2</source>
        <translation>면적 %1 %2</translation>
    </message>
    <message>
        <source>Ruler</source>
        <translation>자</translation>
    </message>
    <message>
        <source>Angle</source>
        <translation>각도</translation>
    </message>
    <message>
        <source>Cobb angle</source>
        <translation>Cobb 각</translation>
    </message>
    <message>
        <source>Rectangle</source>
        <translation>사각형</translation>
    </message>
    <message>
        <source>Ellipse</source>
        <translation>타원</translation>
    </message>
    <message>
        <source>Arrow</source>
        <translation>화살표</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Move</source>
        <translation>이동</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::ClassifyPanel</name>
    <message>
        <source>Model bundles (*.lbx) and TorchScript files (*.pt) of the models folders</source>
        <translation>models 폴더의 모델 번들(*.lbx)과 TorchScript 파일(*.pt)</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>자동</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>Auto: the first GPU when there is one, else the CPU. LibTorch %1</source>
        <translation>자동: GPU가 있으면 첫 번째 GPU, 없으면 CPU. LibTorch %1</translation>
    </message>
    <message>
        <source>Reduced precision</source>
        <translation>낮은 정밀도</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>실행</translation>
    </message>
    <message>
        <source>Classify the crop, or the whole image when there is none (Ctrl+R)</source>
        <translation>잘라낸 영역을 분류합니다. 영역이 없으면 전체 영상을 분류합니다 (Ctrl+R)</translation>
    </message>
    <message>
        <source>Re-run when the crop changes</source>
        <translation>영역이 바뀌면 다시 실행</translation>
    </message>
    <message>
        <source>Test-time augmentation</source>
        <translation>시험 시 증강(TTA)</translation>
    </message>
    <message>
        <source>Also classify the image mirrored and slightly shifted, as the model saw its training images, and average: steadier probabilities, a few times slower</source>
        <translation>모델이 학습 영상을 본 것처럼 좌우 반전하고 조금 이동한 영상도 분류하여 평균합니다: 확률이 더 안정적이지만 몇 배 느립니다</translation>
    </message>
    <message>
        <source>Pick the model for each image</source>
        <translation>영상마다 모델 자동 선택</translation>
    </message>
    <message>
        <source>Choose the listed model whose task fits: the crop panel&apos;s task, else the DICOM body part or modality, else the image&apos;s folder</source>
        <translation>작업이 맞는 모델을 목록에서 고릅니다: 잘라내기 패널의 작업, 없으면 DICOM 검사 부위나 모달리티, 없으면 영상의 폴더</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>장치</translation>
    </message>
    <message>
        <source>Probabilities</source>
        <translation>확률</translation>
    </message>
    <message>
        <source>Heat map</source>
        <translation>히트맵</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>끔</translation>
    </message>
    <message>
        <source>Grad-CAM</source>
        <translation>Grad-CAM</translation>
    </message>
    <message>
        <source>Grad-CAM++</source>
        <translation>Grad-CAM++</translation>
    </message>
    <message>
        <source>Top-1</source>
        <translation>최상위(Top-1)</translation>
    </message>
    <message>
        <source>The class the map explains</source>
        <translation>히트맵이 설명하는 클래스</translation>
    </message>
    <message>
        <source>Last block</source>
        <translation>마지막 블록</translation>
    </message>
    <message>
        <source>The block whose activations the map is taken from (later: coarser, more semantic)</source>
        <translation>히트맵을 계산할 활성화 블록 (뒤쪽일수록 거칠고 의미적임)</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>표시</translation>
    </message>
    <message>
        <source>Show the heat map over the image</source>
        <translation>영상 위에 히트맵 표시</translation>
    </message>
    <message>
        <source>Turbo</source>
        <translation>Turbo</translation>
    </message>
    <message>
        <source>Jet</source>
        <translation>Jet</translation>
    </message>
    <message>
        <source>Inferno</source>
        <translation>Inferno</translation>
    </message>
    <message>
        <source>Opacity of the heat map</source>
        <translation>히트맵 불투명도</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>히트맵</translation>
    </message>
    <message>
        <source>of</source>
        <translation>대상</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>계층</translation>
    </message>
    <message>
        <source>Running…</source>
        <translation>실행 중…</translation>
    </message>
    <message>
        <source>Choose a model and press Run (Ctrl+R).</source>
        <translation>모델을 고르고 실행을 누르십시오 (Ctrl+R).</translation>
    </message>
    <message>
        <source>Open model file…</source>
        <translation>모델 파일 열기…</translation>
    </message>
    <message>
        <source>No models folder found: open a model file.</source>
        <translation>models 폴더가 없습니다: 모델 파일을 여십시오.</translation>
    </message>
    <message>
        <source>No models in %1: open a model file.</source>
        <translation>%1에 모델이 없습니다: 모델 파일을 여십시오.</translation>
    </message>
    <message>
        <source>The model file %1 does not exist.</source>
        <translation>모델 파일 %1이(가) 없습니다.</translation>
    </message>
    <message>
        <source>Open model</source>
        <translation>모델 열기</translation>
    </message>
    <message>
        <source>Models (*.lbx *.pt);;All files (*)</source>
        <translation>모델 (*.lbx *.pt);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>Chosen by hand.</source>
        <translation>직접 선택했습니다.</translation>
    </message>
    <message>
        <source>Nothing tells this image&apos;s task: keeping the model chosen.</source>
        <translation>이 영상의 작업을 알려 주는 정보가 없습니다: 선택한 모델을 유지합니다.</translation>
    </message>
    <message>
        <source>No model picked: %1.</source>
        <translation>선택된 모델 없음: %1.</translation>
    </message>
    <message>
        <source>Picked %1 because %2.</source>
        <translation>%1 선택 (이유: %2).</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>불러오는 중…</translation>
    </message>
    <message>
        <source>Cannot load this model.</source>
        <translation>이 모델을 불러올 수 없습니다.</translation>
    </message>
    <message>
        <source>Cannot load the model: %1</source>
        <translation>모델을 불러올 수 없습니다: %1</translation>
    </message>
    <message>
        <source>(none: no map)</source>
        <translation>(없음: 히트맵 없음)</translation>
    </message>
    <message>
        <source>Last block (%1)</source>
        <translation>마지막 블록 (%1)</translation>
    </message>
    <message>
        <source>Not available here: needs a GPU, or a CPU with bfloat16 arithmetic (AVX-512 BF16 or AMX)</source>
        <translation>이 환경에서는 쓸 수 없습니다: GPU나 bfloat16 연산을 지원하는 CPU(AVX-512 BF16 또는 AMX)가 필요합니다</translation>
    </message>
    <message>
        <source>%1 arithmetic: faster, probabilities differ slightly from the float32 figures on the model card</source>
        <translation>%1 연산: 더 빠르지만 확률이 모델 카드의 float32 수치와 조금 다릅니다</translation>
    </message>
    <message>
        <source>Open an image first.</source>
        <translation>먼저 영상을 여십시오.</translation>
    </message>
    <message>
        <source>Choose a model first (or open a model file).</source>
        <translation>먼저 모델을 고르십시오 (또는 모델 파일을 여십시오).</translation>
    </message>
    <message>
        <source>Classifying the %1 × %2 crop…</source>
        <translation>%1 × %2 잘라낸 영역 분류 중…</translation>
    </message>
    <message>
        <source>Classifying the whole image…</source>
        <translation>전체 영상 분류 중…</translation>
    </message>
    <message>
        <source>New image: press Run (Ctrl+R).</source>
        <translation>새 영상: 실행을 누르십시오 (Ctrl+R).</translation>
    </message>
    <message>
        <source>This image is unlike the images this model was trained on: its %1 score is above %2 % of the model&apos;s validation images. Do not trust these probabilities.</source>
        <translation>분포 밖(OOD) 경고: 이 영상은 모델이 학습한 영상과 다릅니다. %1 점수가 모델 검증 영상의 %2 %보다 높습니다. 이 확률을 신뢰하지 마십시오.</translation>
    </message>
    <message>
        <source>energy</source>
        <translation>에너지</translation>
    </message>
    <message>
        <source>Mahalanobis</source>
        <translation>마할라노비스</translation>
    </message>
    <message>
        <source>Grade %1 (expected grade %2 under the model&apos;s cut points; top: %3, %4 %)</source>
        <translation>등급 %1 (모델 절단점 기준 기대 등급 %2, 최상위: %3, %4 %)</translation>
    </message>
    <message>
        <source>Expected grade %1 (top: %2, %3 %)</source>
        <translation>기대 등급 %1 (최상위: %2, %3 %)</translation>
    </message>
    <message>
        <source>Top: %1 (%2 %)</source>
        <translation>최상위: %1 (%2 %)</translation>
    </message>
    <message>
        <source>crop %1 × %2</source>
        <translation>잘라낸 영역 %1 × %2</translation>
    </message>
    <message>
        <source> · like the training images (%1th percentile)</source>
        <translation> · 학습 영상과 비슷함 (%1 백분위수)</translation>
    </message>
    <message>
        <source> · ordinal head (CORN)</source>
        <translation> · 순서형 헤드 (CORN)</translation>
    </message>
    <message>
        <source> · calibrated (T = %1)</source>
        <translation> · 보정됨 (T = %1)</translation>
    </message>
    <message>
        <source> · %1 of %2 networks agree (spread ±%3 %)</source>
        <translation> · 네트워크 %2개 중 %1개 일치 (편차 ±%3 %)</translation>
    </message>
    <message>
        <source> · TTA %1 views (+%2 ms)</source>
        <translation> · TTA %1개 뷰 (+%2 ms)</translation>
    </message>
    <message>
        <source>%1 · %2 ms%3%4%5</source>
        <translation>%1 · %2 ms%3%4%5</translation>
    </message>
    <message>
        <source> (+ %1 ms load)</source>
        <translation> (+ 불러오기 %1 ms)</translation>
    </message>
    <message>
        <source>%1, class %2</source>
        <translation>%1, 클래스 %2</translation>
    </message>
    <message>
        <source>Out of distribution, not reliable: %1</source>
        <translation>분포 밖(OOD), 신뢰할 수 없음: %1</translation>
    </message>
    <message>
        <source>Press Run (Ctrl+R) to classify this image.</source>
        <translation>이 영상을 분류하려면 실행(Ctrl+R)을 누르십시오.</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::CompareView</name>
    <message>
        <source>Mirror</source>
        <translation>좌우 반전</translation>
    </message>
    <message>
        <source>Flip this side left-right (to lay a left knee over a right one)</source>
        <translation>이쪽 영상을 좌우로 뒤집습니다 (왼쪽 무릎을 오른쪽 무릎과 같은 방향으로 맞출 때)</translation>
    </message>
    <message>
        <source>The image to compare with: another image of the folder</source>
        <translation>비교할 영상: 폴더의 다른 영상</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>열기…</translation>
    </message>
    <message>
        <source>Compare with any image or DICOM file</source>
        <translation>다른 영상 또는 DICOM 파일과 비교합니다</translation>
    </message>
    <message>
        <source>Linked</source>
        <translation>연동</translation>
    </message>
    <message>
        <source>Zoom, pan and window/level follow the other side; untick to move each side alone</source>
        <translation>확대/축소, 이동, 창 너비/중심이 다른 쪽을 따라갑니다. 해제하면 각 쪽을 따로 움직입니다</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>닫기</translation>
    </message>
    <message>
        <source>Back to one image</source>
        <translation>영상 하나 보기로 돌아갑니다</translation>
    </message>
    <message>
        <source>Choose an image to compare with: Open…, or drop a file here.</source>
        <translation>비교할 영상을 고르십시오: 열기…를 누르거나 파일을 여기에 끌어 놓으십시오.</translation>
    </message>
    <message>
        <source>Loading %1 to compare…</source>
        <translation>비교할 %1 불러오는 중…</translation>
    </message>
    <message>
        <source>Cannot open %1: %2</source>
        <translation>%1을(를) 열 수 없습니다: %2</translation>
    </message>
    <message>
        <source>Comparing with %1</source>
        <translation>%1과(와) 비교 중</translation>
    </message>
    <message>
        <source>Compare with</source>
        <translation>비교할 영상</translation>
    </message>
    <message>
        <source>Images (*.dcm *.DCM *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)</source>
        <translation>영상 (*.dcm *.DCM *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>(no image)</source>
        <translation>(영상 없음)</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::CropPanel</name>
    <message>
        <source>Data-set folder</source>
        <translation>데이터셋 폴더</translation>
    </message>
    <message>
        <source>…</source>
        <translation>…</translation>
    </message>
    <message>
        <source>Choose the data-set folder</source>
        <translation>데이터셋 폴더 선택</translation>
    </message>
    <message>
        <source>Task preset: sets the class labels, their keys and the output size</source>
        <translation>작업 프리셋: 클래스 레이블, 단축키, 출력 크기를 정합니다</translation>
    </message>
    <message>
        <source>Custom labels</source>
        <translation>사용자 레이블</translation>
    </message>
    <message>
        <source>The task&apos;s classes, comma separated; keys 0-9 pick them in order</source>
        <translation>작업의 클래스(쉼표로 구분). 0-9 키가 순서대로 선택합니다</translation>
    </message>
    <message>
        <source> px</source>
        <translation> px</translation>
    </message>
    <message>
        <source>Windowed, 8-bit PNG</source>
        <translation>창 적용, 8비트 PNG</translation>
    </message>
    <message>
        <source>Raw values (16-bit PNG)</source>
        <translation>원본 값 (16비트 PNG)</translation>
    </message>
    <message>
        <source>Square rectangle</source>
        <translation>정사각형</translation>
    </message>
    <message>
        <source>Open the next image after saving</source>
        <translation>저장 후 다음 영상 열기</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>작업</translation>
    </message>
    <message>
        <source>Data set</source>
        <translation>데이터셋</translation>
    </message>
    <message>
        <source>Classes</source>
        <translation>클래스</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>출력</translation>
    </message>
    <message>
        <source>Pixels</source>
        <translation>픽셀</translation>
    </message>
    <message>
        <source>Drag a rectangle over the image</source>
        <translation>영상 위에 사각형을 드래그하십시오</translation>
    </message>
    <message>
        <source>Undo last save</source>
        <translation>마지막 저장 취소</translation>
    </message>
    <message>
        <source>Save the crop as:</source>
        <translation>잘라낸 영역 저장:</translation>
    </message>
    <message>
        <source>Save the crop as &quot;%1&quot; (key %2)</source>
        <translation>잘라낸 영역을 &quot;%1&quot;(으)로 저장 (키 %2)</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::EvaluationView</name>
    <message>
        <source>Export...</source>
        <translation>내보내기...</translation>
    </message>
    <message>
        <source>Save report.json, per_class.csv, confusion.csv and the plots as PNG into a folder</source>
        <translation>report.json, per_class.csv, confusion.csv와 그래프(PNG)를 폴더에 저장합니다</translation>
    </message>
    <message>
        <source>Class</source>
        <translation>클래스</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>정밀도</translation>
    </message>
    <message>
        <source>Recall</source>
        <translation>민감도(재현율)</translation>
    </message>
    <message>
        <source>F1</source>
        <translation>F1</translation>
    </message>
    <message>
        <source>Support</source>
        <translation>표본 수</translation>
    </message>
    <message>
        <source>AUC</source>
        <translation>AUC</translation>
    </message>
    <message>
        <source>Confusion matrix (row-normalised, counts)</source>
        <translation>혼동 행렬 (행 정규화, 개수)</translation>
    </message>
    <message>
        <source>ROC, one class against the rest</source>
        <translation>ROC (한 클래스 대 나머지)</translation>
    </message>
    <message>
        <source>True and predicted class counts</source>
        <translation>실제 클래스와 예측 클래스의 개수</translation>
    </message>
    <message>
        <source>Reliability: accuracy against confidence (15 bins)</source>
        <translation>신뢰도 도표: 신뢰도에 따른 정확도 (15구간)</translation>
    </message>
    <message>
        <source>No evaluation yet: it appears when a run finishes.</source>
        <translation>아직 평가가 없습니다: 학습이 끝나면 나타납니다.</translation>
    </message>
    <message>
        <source>Evaluation</source>
        <translation>평가</translation>
    </message>
    <message>
        <source>Accuracy %1 on %2 images · balanced accuracy %3 · macro F1 %4 · macro AUC %5</source>
        <translation>정확도 %1 (영상 %2장) · 균형 정확도 %3 · 매크로 F1 %4 · 매크로 AUC %5</translation>
    </message>
    <message>
        <source>
Quadratic weighted kappa %1 · mean absolute error %2 grades</source>
        <translation>
이차 가중 카파 %1 · 평균 절대 오차 %2 등급</translation>
    </message>
    <message>
        <source> with temperature %1 (%2 without)</source>
        <translation> (온도 %1 적용, 미적용 시 %2)</translation>
    </message>
    <message>
        <source>Predicted</source>
        <translation>예측</translation>
    </message>
    <message>
        <source>True</source>
        <translation>실제</translation>
    </message>
    <message>
        <source>%1 (AUC %2)</source>
        <translation>%1 (AUC %2)</translation>
    </message>
    <message>
        <source>False positive rate</source>
        <translation>위양성률 (1 - 특이도)</translation>
    </message>
    <message>
        <source>True positive rate</source>
        <translation>진양성률 (민감도)</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>영상 수</translation>
    </message>
    <message>
        <source>Perfect calibration</source>
        <translation>완벽한 보정</translation>
    </message>
    <message>
        <source>Before temperature (ECE %1)</source>
        <translation>온도 적용 전 (ECE %1)</translation>
    </message>
    <message>
        <source>T = %1 (ECE %2)</source>
        <translation>T = %1 (ECE %2)</translation>
    </message>
    <message>
        <source>Accuracy (ECE %1)</source>
        <translation>정확도 (ECE %1)</translation>
    </message>
    <message>
        <source>Confidence (top-class probability)</source>
        <translation>신뢰도 (최상위 클래스 확률)</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>정확도</translation>
    </message>
    <message>
        <source>Export the evaluation into</source>
        <translation>평가를 내보낼 폴더</translation>
    </message>
    <message>
        <source>  (exported %1 files to %2)</source>
        <translation>  (파일 %1개를 %2에 내보냄)</translation>
    </message>
    <message>
        <source> · Calibration error (ECE) %1</source>
        <translation> · 보정 오차(ECE) %1</translation>
    </message>
    <message>
        <source>
Calibration error (ECE) %1</source>
        <translation>
보정 오차(ECE) %1</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::ImageViewer</name>
    <message>
        <source>ID: %1</source>
        <translation>ID: %1</translation>
    </message>
    <message>
        <source>Born: %1</source>
        <translation>생년월일: %1</translation>
    </message>
    <message>
        <source>VOI LUT %1</source>
        <translation>VOI LUT %1</translation>
    </message>
    <message>
        <source>W %1  L %2</source>
        <translation>창 너비 %1  창 중심 %2</translation>
    </message>
    <message>
        <source>Zoom %1%</source>
        <translation>확대 %1%</translation>
    </message>
    <message>
        <source>Rot %1°</source>
        <translation>회전 %1°</translation>
    </message>
    <message>
        <source>Flip H</source>
        <translation>좌우 뒤집기</translation>
    </message>
    <message>
        <source>Flip V</source>
        <translation>상하 뒤집기</translation>
    </message>
    <message>
        <source>Inverted</source>
        <translation>반전</translation>
    </message>
    <message>
        <source>%1 × %2  %3-bit %4</source>
        <translation>%1 × %2  %3비트 %4</translation>
    </message>
    <message>
        <source>%1 mm/px</source>
        <translation>%1 mm/px</translation>
    </message>
    <message>
        <source>Open an X-ray or DICOM file (Ctrl+O), a folder (Ctrl+Shift+O), or drop one here</source>
        <translation>X선 영상이나 DICOM 파일(Ctrl+O), 폴더(Ctrl+Shift+O)를 열거나 여기에 끌어다 놓으십시오</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::MainWindow</name>
    <message>
        <source>Lightbox</source>
        <translation>Lightbox</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>뷰어</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>학습</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>준비</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>폴더</translation>
    </message>
    <message>
        <source>Crop and label</source>
        <translation>잘라내기와 레이블</translation>
    </message>
    <message>
        <source>Classify</source>
        <translation>분류</translation>
    </message>
    <message>
        <source>DICOM tags</source>
        <translation>DICOM 태그</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>도구</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open...</source>
        <translation>열기(&amp;O)...</translation>
    </message>
    <message>
        <source>Open &amp;Folder...</source>
        <translation>폴더 열기(&amp;F)...</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>최근 파일(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Next Image</source>
        <translation>다음 영상(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Previous Image</source>
        <translation>이전 영상(&amp;P)</translation>
    </message>
    <message>
        <source>First Image</source>
        <translation>첫 영상</translation>
    </message>
    <message>
        <source>Last Image</source>
        <translation>마지막 영상</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>끝내기(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>편집(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Undo Last Crop Save</source>
        <translation>마지막 잘라내기 저장 취소(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>도구(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Pan</source>
        <translation>이동(&amp;P)</translation>
    </message>
    <message>
        <source>Left drag pans (middle drag always does)</source>
        <translation>왼쪽 드래그로 이동합니다 (가운데 드래그는 항상 이동)</translation>
    </message>
    <message>
        <source>&amp;Window/Level</source>
        <translation>창 너비/창 중심(&amp;W)</translation>
    </message>
    <message>
        <source>Left drag sets window/level (right drag always does)</source>
        <translation>왼쪽 드래그로 창 너비/창 중심을 조절합니다 (오른쪽 드래그는 항상 조절)</translation>
    </message>
    <message>
        <source>&amp;Crop</source>
        <translation>잘라내기(&amp;C)</translation>
    </message>
    <message>
        <source>Left drag draws the crop rectangle; drag its handles to resize, arrows nudge</source>
        <translation>왼쪽 드래그로 잘라낼 사각형을 그립니다. 손잡이를 끌어 크기를 바꾸고 화살표 키로 조금씩 옮깁니다</translation>
    </message>
    <message>
        <source>&amp;Square Rectangle</source>
        <translation>정사각형(&amp;S)</translation>
    </message>
    <message>
        <source>Clear Rectangle</source>
        <translation>사각형 지우기</translation>
    </message>
    <message>
        <source>Save Crop &amp;As</source>
        <translation>잘라낸 영역 저장(&amp;A)</translation>
    </message>
    <message>
        <source>C&amp;lassify</source>
        <translation>분류(&amp;L)</translation>
    </message>
    <message>
        <source>Run the classify panel&apos;s model on the crop, or on the whole image (Ctrl+R)</source>
        <translation>분류 패널의 모델을 잘라낸 영역 또는 전체 영상에 실행합니다 (Ctrl+R)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>보기(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Fit to Window</source>
        <translation>창에 맞추기(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Actual Pixels (1:1)</source>
        <translation>실제 픽셀(&amp;A) (1:1)</translation>
    </message>
    <message>
        <source>Zoom &amp;In</source>
        <translation>확대(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;Out</source>
        <translation>축소(&amp;O)</translation>
    </message>
    <message>
        <source>Rotate &amp;Right</source>
        <translation>오른쪽으로 회전(&amp;R)</translation>
    </message>
    <message>
        <source>Rotate &amp;Left</source>
        <translation>왼쪽으로 회전(&amp;L)</translation>
    </message>
    <message>
        <source>Flip &amp;Horizontal</source>
        <translation>좌우 뒤집기(&amp;H)</translation>
    </message>
    <message>
        <source>Flip &amp;Vertical</source>
        <translation>상하 뒤집기(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Invert</source>
        <translation>반전(&amp;I)</translation>
    </message>
    <message>
        <source>Window &amp;Presets</source>
        <translation>창 프리셋(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Automatic Window</source>
        <translation>자동 창 설정(&amp;A)</translation>
    </message>
    <message>
        <source>R&amp;eset View</source>
        <translation>보기 초기화(&amp;E)</translation>
    </message>
    <message>
        <source>Corner &amp;Text</source>
        <translation>모서리 글자(&amp;T)</translation>
    </message>
    <message>
        <source>Show or hide patient and study text (hide it for anonymous screenshots)</source>
        <translation>환자·검사 정보 글자를 표시하거나 숨깁니다 (익명 스크린샷에서는 숨기십시오)</translation>
    </message>
    <message>
        <source>&amp;Heat Map</source>
        <translation>히트맵(&amp;H)</translation>
    </message>
    <message>
        <source>Show or hide the classifier&apos;s heat map (the Show box of the Classify dock)</source>
        <translation>분류기의 히트맵을 표시하거나 숨깁니다 (분류 패널의 표시 상자)</translation>
    </message>
    <message>
        <source>Previous</source>
        <translation>이전</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>다음</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>1:1</translation>
    </message>
    <message>
        <source>Rotate</source>
        <translation>회전</translation>
    </message>
    <message>
        <source>Flip</source>
        <translation>뒤집기</translation>
    </message>
    <message>
        <source>Auto W/L</source>
        <translation>자동 창</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>글자</translation>
    </message>
    <message>
        <source>Square</source>
        <translation>정사각형</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>열기</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>언어(&amp;L)</translation>
    </message>
    <message>
        <source>System (%1)</source>
        <translation>시스템 (%1)</translation>
    </message>
    <message>
        <source>Interface language: %1</source>
        <translation>화면 언어: %1</translation>
    </message>
    <message>
        <source>The interface will be in %1 the next time Lightbox starts.</source>
        <translation>Lightbox를 다시 시작하면 화면 언어가 %1(으)로 바뀝니다.</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>언어</translation>
    </message>
    <message>
        <source>Label &quot;%1&quot;</source>
        <translation>레이블 &quot;%1&quot;</translation>
    </message>
    <message>
        <source>File window %1</source>
        <translation>파일 창 %1</translation>
    </message>
    <message>
        <source>%1  (W %2 L %3)</source>
        <translation>%1  (창 너비 %2, 창 중심 %3)</translation>
    </message>
    <message>
        <source>VOI LUT %1</source>
        <translation>VOI LUT %1</translation>
    </message>
    <message>
        <source>Automatic  (W %1 L %2)</source>
        <translation>자동  (창 너비 %1, 창 중심 %2)</translation>
    </message>
    <message>
        <source>Open image</source>
        <translation>영상 열기</translation>
    </message>
    <message>
        <source>Images (*.dcm *.DCM *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)</source>
        <translation>영상 (*.dcm *.DCM *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>폴더 열기</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>%1 불러오는 중…</translation>
    </message>
    <message>
        <source>Cannot open %1: %2</source>
        <translation>%1을(를) 열 수 없습니다: %2</translation>
    </message>
    <message>
        <source>Lightbox - %1</source>
        <translation>Lightbox - %1</translation>
    </message>
    <message>
        <source>%1 × %2, %3</source>
        <translation>%1 × %2, %3</translation>
    </message>
    <message>
        <source>Opened %1: %2</source>
        <translation>%1 열림: %2</translation>
    </message>
    <message>
        <source>no images in %1</source>
        <translation>%1에 영상이 없음</translation>
    </message>
    <message>
        <source>No DICOM or image files in %1</source>
        <translation>%1에 DICOM 파일이나 영상 파일이 없습니다</translation>
    </message>
    <message>
        <source>Last image of the folder</source>
        <translation>폴더의 마지막 영상입니다</translation>
    </message>
    <message>
        <source>First image of the folder</source>
        <translation>폴더의 첫 영상입니다</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>(없음)</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>지우기</translation>
    </message>
    <message>
        <source>x %1  y %2</source>
        <translation>x %1  y %2</translation>
    </message>
    <message>
        <source>RGB %1, %2, %3</source>
        <translation>RGB %1, %2, %3</translation>
    </message>
    <message>
        <source>stored %1  value %2</source>
        <translation>저장값 %1  값 %2</translation>
    </message>
    <message>
        <source>x %1  y %2   %3</source>
        <translation>x %1  y %2   %3</translation>
    </message>
    <message>
        <source>VOI LUT</source>
        <translation>VOI LUT</translation>
    </message>
    <message>
        <source>W %1  L %2</source>
        <translation>창 너비 %1  창 중심 %2</translation>
    </message>
    <message>
        <source>%1   zoom %2%</source>
        <translation>%1   확대 %2%</translation>
    </message>
    <message>
        <source>Drag a rectangle over the image (crop tool, C)</source>
        <translation>영상 위에 사각형을 드래그하십시오 (잘라내기 도구, C)</translation>
    </message>
    <message>
        <source>Rectangle %1 × %2 px at (%3, %4)</source>
        <translation>사각형 %1 × %2 px, 위치 (%3, %4)</translation>
    </message>
    <message>
        <source>, %1 × %2 mm</source>
        <translation>, %1 × %2 mm</translation>
    </message>
    <message>
        <source>Open an image first</source>
        <translation>먼저 영상을 여십시오</translation>
    </message>
    <message>
        <source>Still loading the next image: not saved</source>
        <translation>다음 영상을 아직 불러오는 중입니다: 저장하지 않았습니다</translation>
    </message>
    <message>
        <source>Drag a rectangle over the image first (crop tool: C)</source>
        <translation>먼저 영상 위에 사각형을 드래그하십시오 (잘라내기 도구: C)</translation>
    </message>
    <message>
        <source>Data-set folder for the crops</source>
        <translation>잘라낸 영상을 저장할 데이터셋 폴더</translation>
    </message>
    <message>
        <source>Crop not saved: %1</source>
        <translation>잘라낸 영역을 저장하지 못했습니다: %1</translation>
    </message>
    <message>
        <source>Saved %1 as &quot;%2&quot; (%3 in the data set)</source>
        <translation>%1을(를) &quot;%2&quot;(으)로 저장했습니다 (데이터셋에 %3장)</translation>
    </message>
    <message>
        <source>Cannot undo: %1</source>
        <translation>취소할 수 없습니다: %1</translation>
    </message>
    <message>
        <source>Undone: %1</source>
        <translation>취소됨: %1</translation>
    </message>
    <message>
        <source>Undid the save of %1</source>
        <translation>%1 저장을 취소했습니다</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>이동</translation>
    </message>
    <message>
        <source>Window/Level</source>
        <translation>창 너비/중심</translation>
    </message>
    <message>
        <source>Crop</source>
        <translation>잘라내기</translation>
    </message>
    <message>
        <source>Fit to Window</source>
        <translation>창에 맞추기</translation>
    </message>
    <message>
        <source>Invert</source>
        <translation>반전</translation>
    </message>
    <message>
        <source>Reset View</source>
        <translation>보기 초기화</translation>
    </message>
    <message>
        <source>Measurements</source>
        <translation>측정</translation>
    </message>
    <message>
        <source>&amp;Export View</source>
        <translation>보기 내보내기(&amp;E)</translation>
    </message>
    <message>
        <source>As on Screen, with Overlays...</source>
        <translation>화면 그대로, 오버레이 포함...</translation>
    </message>
    <message>
        <source>As on Screen, Image Only...</source>
        <translation>화면 그대로, 영상만...</translation>
    </message>
    <message>
        <source>Native Resolution, with Overlays...</source>
        <translation>원본 해상도, 오버레이 포함...</translation>
    </message>
    <message>
        <source>Native Resolution, Image Only...</source>
        <translation>원본 해상도, 영상만...</translation>
    </message>
    <message>
        <source>Export View</source>
        <translation>보기 내보내기</translation>
    </message>
    <message>
        <source>PNG (*.png)</source>
        <translation>PNG (*.png)</translation>
    </message>
    <message>
        <source>Export &amp;Report (PDF)...</source>
        <translation>보고서 내보내기(PDF)(&amp;R)...</translation>
    </message>
    <message>
        <source>Export Report</source>
        <translation>보고서 내보내기</translation>
    </message>
    <message>
        <source>The report is de-identified unless you include the patient&apos;s name and ID.</source>
        <translation>환자 이름과 ID를 포함하지 않으면 보고서는 비식별화됩니다.</translation>
    </message>
    <message>
        <source>Include the patient&apos;s name and ID</source>
        <translation>환자 이름과 ID 포함</translation>
    </message>
    <message>
        <source>PDF (*.pdf)</source>
        <translation>PDF (*.pdf)</translation>
    </message>
    <message>
        <source>Export &amp;DICOM Secondary Capture...</source>
        <translation>DICOM 2차 캡처 내보내기(&amp;D)...</translation>
    </message>
    <message>
        <source>Export DICOM Secondary Capture</source>
        <translation>DICOM 2차 캡처 내보내기</translation>
    </message>
    <message>
        <source>DICOM (*.dcm)</source>
        <translation>DICOM (*.dcm)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>실행 취소(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>다시 실행(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Measure</source>
        <translation>측정(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Ruler</source>
        <translation>자(&amp;R)</translation>
    </message>
    <message>
        <source>Drag to measure a length: mm from Pixel Spacing, at the detector from Imager Pixel Spacing, else pixels</source>
        <translation>드래그하여 길이를 잽니다: Pixel Spacing이 있으면 mm, Imager Pixel Spacing만 있으면 검출기 기준 mm, 없으면 픽셀</translation>
    </message>
    <message>
        <source>&amp;Angle</source>
        <translation>각도(&amp;A)</translation>
    </message>
    <message>
        <source>Drag the first arm to the vertex, then click the end of the second arm</source>
        <translation>첫 번째 변을 꼭짓점까지 드래그한 다음 두 번째 변의 끝을 클릭합니다</translation>
    </message>
    <message>
        <source>&amp;Cobb Angle</source>
        <translation>Cobb 각(&amp;C)</translation>
    </message>
    <message>
        <source>Drag one line, then the other</source>
        <translation>한 선을 드래그한 다음 다른 선을 드래그합니다</translation>
    </message>
    <message>
        <source>Rectangle &amp;Region</source>
        <translation>사각형 관심 영역(&amp;R)</translation>
    </message>
    <message>
        <source>Drag a rectangle: mean, SD, minimum and maximum of the values, and its area</source>
        <translation>사각형을 드래그합니다: 값의 평균, 표준편차, 최소, 최대와 면적</translation>
    </message>
    <message>
        <source>&amp;Ellipse Region</source>
        <translation>타원 관심 영역(&amp;E)</translation>
    </message>
    <message>
        <source>Drag an ellipse: mean, SD, minimum and maximum of the values, and its area</source>
        <translation>타원을 드래그합니다: 값의 평균, 표준편차, 최소, 최대와 면적</translation>
    </message>
    <message>
        <source>Arro&amp;w with Text</source>
        <translation>텍스트 화살표(&amp;W)</translation>
    </message>
    <message>
        <source>Drag from the finding to where the text goes</source>
        <translation>소견 위치에서 텍스트를 둘 곳까지 드래그합니다</translation>
    </message>
    <message>
        <source>&amp;Select and Edit</source>
        <translation>선택 및 편집(&amp;S)</translation>
    </message>
    <message>
        <source>Click a measurement to select it, drag it or its points; Delete removes it</source>
        <translation>측정을 클릭하여 선택하고, 측정이나 그 점을 드래그합니다. Delete 키로 삭제합니다</translation>
    </message>
    <message>
        <source>Opened %1. %2</source>
        <translation>%1을(를) 열었습니다. %2</translation>
    </message>
    <message>
        <source>&amp;Undo %1</source>
        <translation>%1 실행 취소(&amp;U)</translation>
    </message>
    <message>
        <source>View not exported: %1</source>
        <translation>보기를 내보내지 못했습니다: %1</translation>
    </message>
    <message>
        <source>Exported the view to %1</source>
        <translation>보기를 %1(으)로 내보냈습니다</translation>
    </message>
    <message>
        <source>DICOM not exported: %1</source>
        <translation>DICOM을 내보내지 못했습니다: %1</translation>
    </message>
    <message>
        <source>Exported a de-identified Secondary Capture to %1 (the image is no DICOM)</source>
        <translation>비식별화된 2차 캡처를 %1(으)로 내보냈습니다 (DICOM 영상이 아님)</translation>
    </message>
    <message>
        <source>Exported a Secondary Capture in the image&apos;s study to %1</source>
        <translation>영상의 검사(study)에 속한 2차 캡처를 %1(으)로 내보냈습니다</translation>
    </message>
    <message>
        <source>Report not exported: %1</source>
        <translation>보고서를 내보내지 못했습니다: %1</translation>
    </message>
    <message>
        <source>Exported the report to %1</source>
        <translation>보고서를 %1(으)로 내보냈습니다</translation>
    </message>
    <message>
        <source>Exported the de-identified report to %1</source>
        <translation>비식별화된 보고서를 %1(으)로 내보냈습니다</translation>
    </message>
    <message>
        <source>Compare with This Image</source>
        <translation>이 영상과 비교</translation>
    </message>
    <message>
        <source>&amp;Compare Side by Side</source>
        <translation>나란히 비교(&amp;C)</translation>
    </message>
    <message>
        <source>Show a second image beside this one (the folder&apos;s next image, or one you choose); zoom, pan and window/level are linked</source>
        <translation>이 영상 옆에 두 번째 영상(폴더의 다음 영상 또는 고른 영상)을 보여 줍니다. 확대/축소, 이동, 창 너비/중심이 연동됩니다</translation>
    </message>
    <message>
        <source>Compare &amp;With...</source>
        <translation>비교할 영상 열기(&amp;W)...</translation>
    </message>
    <message>
        <source>&amp;Link Compared Views</source>
        <translation>비교 화면 연동(&amp;L)</translation>
    </message>
    <message>
        <source>Zoom, pan and window/level of the two sides move together</source>
        <translation>두 쪽의 확대/축소, 이동, 창 너비/중심이 함께 움직입니다</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>비교</translation>
    </message>
    <message>
        <source>PACS</source>
        <translation>PACS</translation>
    </message>
    <message>
        <source>the image shown is no DICOM file; send the view as a Secondary Capture</source>
        <translation>표시된 영상은 DICOM 파일이 아닙니다. 화면을 Secondary Capture로 보내십시오</translation>
    </message>
    <message>
        <source>cannot write a temporary file</source>
        <translation>임시 파일을 쓸 수 없습니다</translation>
    </message>
    <message>
        <source>Query &amp;PACS...</source>
        <translation>PACS 조회(&amp;P)...</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::MeasurementsPanel</name>
    <message>
        <source>Delete</source>
        <translation>삭제</translation>
    </message>
    <message>
        <source>Calibrate…</source>
        <translation>보정…</translation>
    </message>
    <message>
        <source>Give the selected ruler&apos;s true length (an object of known size): lengths in this image are then measured in mm from it</source>
        <translation>선택한 자의 실제 길이(크기를 아는 물체)를 입력하면 이 영상의 길이를 그것으로부터 mm로 잽니다</translation>
    </message>
    <message>
        <source>Ruler D, angle G, Cobb B, rectangle Q, ellipse E, arrow T; select and move L. Delete removes, Ctrl+Z undoes.</source>
        <translation>자 D, 각도 G, Cobb 각 B, 사각형 Q, 타원 E, 화살표 T, 선택 및 이동 L. Delete 키로 삭제, Ctrl+Z로 실행 취소.</translation>
    </message>
    <message>
        <source>Calibrate</source>
        <translation>보정</translation>
    </message>
    <message>
        <source>True length of the selected ruler in mm (0 goes back to the file&apos;s pixel spacing):</source>
        <translation>선택한 자의 실제 길이(mm) (0이면 파일의 픽셀 간격으로 돌아갑니다):</translation>
    </message>
    <message>
        <source>Arrow text</source>
        <translation>화살표 텍스트</translation>
    </message>
    <message>
        <source>Text beside the arrow:</source>
        <translation>화살표 옆 텍스트:</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::PacsDock</name>
    <message>
        <source>Patient / study / series</source>
        <translation>환자 / 검사 / 시리즈</translation>
    </message>
    <message>
        <source>ID / accession</source>
        <translation>ID / 접수 번호</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>날짜</translation>
    </message>
    <message>
        <source>Modality</source>
        <translation>모달리티</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>영상 수</translation>
    </message>
    <message>
        <source>Retrieve</source>
        <translation>가져오기</translation>
    </message>
    <message>
        <source>Retrieve the chosen study or series into the cache and open it</source>
        <translation>선택한 검사나 시리즈를 캐시로 가져와 엽니다</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <source>Send:</source>
        <translation>보내기:</translation>
    </message>
    <message>
        <source>Image</source>
        <translation>영상</translation>
    </message>
    <message>
        <source>Send the DICOM file shown to the node</source>
        <translation>표시된 DICOM 파일을 노드로 보냅니다</translation>
    </message>
    <message>
        <source>View</source>
        <translation>화면</translation>
    </message>
    <message>
        <source>Send the view as a DICOM Secondary Capture</source>
        <translation>화면을 DICOM Secondary Capture로 보냅니다</translation>
    </message>
    <message>
        <source>Report</source>
        <translation>보고서</translation>
    </message>
    <message>
        <source>Send the report as a DICOM Encapsulated PDF</source>
        <translation>보고서를 DICOM Encapsulated PDF로 보냅니다</translation>
    </message>
    <message>
        <source>Network events; patient names and IDs are left out</source>
        <translation>네트워크 기록입니다. 환자 이름과 ID는 남기지 않습니다</translation>
    </message>
    <message>
        <source>Echo: %1 answered in %2 ms</source>
        <translation>에코: %1이(가) %2 ms 만에 응답했습니다</translation>
    </message>
    <message>
        <source>Echo failed: %1</source>
        <translation>에코 실패: %1</translation>
    </message>
    <message>
        <source>Series not found: %1</source>
        <translation>시리즈를 찾지 못했습니다: %1</translation>
    </message>
    <message>
        <source>Search failed: %1</source>
        <translation>검색 실패: %1</translation>
    </message>
    <message>
        <source>%1 images, %2</source>
        <translation>영상 %1장, %2</translation>
    </message>
    <message>
        <source>Not retrieved</source>
        <translation>가져오지 못함</translation>
    </message>
    <message>
        <source>Retrieve failed: %1</source>
        <translation>가져오기 실패: %1</translation>
    </message>
    <message>
        <source>%1 images</source>
        <translation>영상 %1장</translation>
    </message>
    <message>
        <source>Retrieved %1 images (%2) in %3 s%4</source>
        <translation>영상 %1장(%2)을 %3초 만에 가져왔습니다%4</translation>
    </message>
    <message>
        <source>, %1 failed</source>
        <translation>, %1장 실패</translation>
    </message>
    <message>
        <source>Send failed: %1</source>
        <translation>보내기 실패: %1</translation>
    </message>
    <message>
        <source>Sent %1, %2 refused: %3</source>
        <translation>%1개 보냄, %2개 거부됨: %3</translation>
    </message>
    <message>
        <source>Sent %1 to %2</source>
        <translation>%2(으)로 %1개 보냈습니다</translation>
    </message>
    <message>
        <source>PACS node</source>
        <translation>PACS 노드</translation>
    </message>
    <message>
        <source>Saved nodes</source>
        <translation>저장된 노드</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>저장</translation>
    </message>
    <message>
        <source>Save the node below in the list</source>
        <translation>아래 노드를 목록에 저장합니다</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>삭제</translation>
    </message>
    <message>
        <source>Echo</source>
        <translation>에코</translation>
    </message>
    <message>
        <source>Check that the node answers and accepts this workstation (C-ECHO)</source>
        <translation>노드가 응답하고 이 워크스테이션을 받아들이는지 확인합니다(C-ECHO)</translation>
    </message>
    <message>
        <source>AE title</source>
        <translation>AE 타이틀</translation>
    </message>
    <message>
        <source>The node&apos;s AE title</source>
        <translation>노드의 AE 타이틀</translation>
    </message>
    <message>
        <source>host</source>
        <translation>호스트</translation>
    </message>
    <message>
        <source>The node&apos;s DICOM port</source>
        <translation>노드의 DICOM 포트</translation>
    </message>
    <message>
        <source>TLS</source>
        <translation>TLS</translation>
    </message>
    <message>
        <source>This workstation</source>
        <translation>이 워크스테이션</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>설정</translation>
    </message>
    <message>
        <source>Clear cache</source>
        <translation>캐시 비우기</translation>
    </message>
    <message>
        <source>The port of this workstation&apos;s storage service, where a C-MOVE sends the images</source>
        <translation>C-MOVE가 영상을 보내는 이 워크스테이션의 저장 서비스 포트</translation>
    </message>
    <message>
        <source>C-GET (one connection)</source>
        <translation>C-GET (연결 하나)</translation>
    </message>
    <message>
        <source>C-MOVE (the PACS connects back)</source>
        <translation>C-MOVE (PACS가 다시 연결)</translation>
    </message>
    <message>
        <source>CA certificates (PEM)</source>
        <translation>CA 인증서 (PEM)</translation>
    </message>
    <message>
        <source>this workstation&apos;s certificate (PEM, optional)</source>
        <translation>이 워크스테이션의 인증서 (PEM, 선택)</translation>
    </message>
    <message>
        <source>its private key (PEM, optional)</source>
        <translation>그 개인 키 (PEM, 선택)</translation>
    </message>
    <message>
        <source>AE title:</source>
        <translation>AE 타이틀:</translation>
    </message>
    <message>
        <source>Storage port:</source>
        <translation>저장 포트:</translation>
    </message>
    <message>
        <source>Retrieve by:</source>
        <translation>가져오기 방식:</translation>
    </message>
    <message>
        <source>TLS CA:</source>
        <translation>TLS CA:</translation>
    </message>
    <message>
        <source>TLS certificate:</source>
        <translation>TLS 인증서:</translation>
    </message>
    <message>
        <source>TLS key:</source>
        <translation>TLS 키:</translation>
    </message>
    <message>
        <source>Cache limit:</source>
        <translation>캐시 한도:</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>검색</translation>
    </message>
    <message>
        <source>DOE^J* (wildcards * and ?)</source>
        <translation>HONG^G* (와일드카드 * 와 ?)</translation>
    </message>
    <message>
        <source>from</source>
        <translation>부터</translation>
    </message>
    <message>
        <source>to</source>
        <translation>까지</translation>
    </message>
    <message>
        <source>Patient name:</source>
        <translation>환자 이름:</translation>
    </message>
    <message>
        <source>Patient ID:</source>
        <translation>환자 ID:</translation>
    </message>
    <message>
        <source>Study date:</source>
        <translation>검사 날짜:</translation>
    </message>
    <message>
        <source>Accession:</source>
        <translation>접수 번호:</translation>
    </message>
    <message>
        <source>Modality:</source>
        <translation>모달리티:</translation>
    </message>
    <message>
        <source>More</source>
        <translation>더 보기</translation>
    </message>
    <message>
        <source>The next page of matches</source>
        <translation>다음 검색 결과 페이지</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1을(를) 저장했습니다</translation>
    </message>
    <message>
        <source>The node is not complete: %1</source>
        <translation>노드 정보가 완전하지 않습니다: %1</translation>
    </message>
    <message>
        <source>Cache: %1, studies: %2</source>
        <translation>캐시: %1, 검사 %2건</translation>
    </message>
    <message>
        <source>Cleared the cache: %1 freed</source>
        <translation>캐시를 비웠습니다: %1 확보</translation>
    </message>
    <message>
        <source>Cannot clear the cache: %1</source>
        <translation>캐시를 비울 수 없습니다: %1</translation>
    </message>
    <message>
        <source>Echo %1…</source>
        <translation>%1 에코 중…</translation>
    </message>
    <message>
        <source>the study date range ends before it starts</source>
        <translation>검사 날짜 범위의 끝이 시작보다 앞섭니다</translation>
    </message>
    <message>
        <source>Search not started: %1</source>
        <translation>검색을 시작하지 않았습니다: %1</translation>
    </message>
    <message>
        <source>Searching %1…</source>
        <translation>%1 검색 중…</translation>
    </message>
    <message>
        <source>(no description)</source>
        <translation>(설명 없음)</translation>
    </message>
    <message>
        <source>%1 studies shown; the PACS has more (More, or narrow the search)</source>
        <translation>검사 %1건 표시. PACS에 더 있습니다(더 보기를 누르거나 검색 조건을 좁히십시오)</translation>
    </message>
    <message>
        <source>Studies: %1</source>
        <translation>검사: %1건</translation>
    </message>
    <message>
        <source>Studies found: %1 (%2 ms)</source>
        <translation>찾은 검사: %1건 (%2 ms)</translation>
    </message>
    <message>
        <source>Series</source>
        <translation>시리즈</translation>
    </message>
    <message>
        <source>Series %1</source>
        <translation>시리즈 %1</translation>
    </message>
    <message>
        <source>Choose a study or a series to retrieve</source>
        <translation>가져올 검사나 시리즈를 선택하십시오</translation>
    </message>
    <message>
        <source>Retrieving…</source>
        <translation>가져오는 중…</translation>
    </message>
    <message>
        <source>Retrieving %1 by %2…</source>
        <translation>%2(으)로 %1 가져오는 중…</translation>
    </message>
    <message>
        <source>the series</source>
        <translation>시리즈를</translation>
    </message>
    <message>
        <source>the study</source>
        <translation>검사를</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>취소하는 중…</translation>
    </message>
    <message>
        <source>Nothing sent: %1</source>
        <translation>보내지 않았습니다: %1</translation>
    </message>
    <message>
        <source>no image is open</source>
        <translation>열린 영상이 없습니다</translation>
    </message>
    <message>
        <source>Sending to %1…</source>
        <translation>%1(으)로 보내는 중…</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::TagBrowser</name>
    <message>
        <source>Search tags (name, number or value)</source>
        <translation>태그 검색 (이름, 번호 또는 값)</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>태그</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <source>VR</source>
        <translation>VR</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>값</translation>
    </message>
</context>
<context>
    <name>lightbox::ui::TrainingTab</name>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1시간 %2분</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1분 %2초</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1초</translation>
    </message>
    <message>
        <source>Curves</source>
        <translation>곡선</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>데이터</translation>
    </message>
    <message>
        <source>Evaluation</source>
        <translation>평가</translation>
    </message>
    <message>
        <source>Runs</source>
        <translation>학습 기록</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>로그</translation>
    </message>
    <message>
        <source>folder with one sub-folder per class, or a CSV</source>
        <translation>클래스별 폴더 또는 CSV</translation>
    </message>
    <message>
        <source>Folder...</source>
        <translation>폴더...</translation>
    </message>
    <message>
        <source>CSV...</source>
        <translation>CSV...</translation>
    </message>
    <message>
        <source>Data set folder</source>
        <translation>데이터셋 폴더</translation>
    </message>
    <message>
        <source>Data set CSV</source>
        <translation>데이터셋 CSV</translation>
    </message>
    <message>
        <source>CSV files (*.csv);;All files (*)</source>
        <translation>CSV 파일 (*.csv);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>Data set</source>
        <translation>데이터셋</translation>
    </message>
    <message>
        <source>Custom (folder names are the classes)</source>
        <translation>사용자 정의 (폴더 이름이 클래스)</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>작업</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>네트워크</translation>
    </message>
    <message>
        <source> px</source>
        <translation> px</translation>
    </message>
    <message>
        <source>grey</source>
        <translation>흑백</translation>
    </message>
    <message>
        <source>RGB</source>
        <translation>RGB</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>입력</translation>
    </message>
    <message>
        <source>Optimiser</source>
        <translation>옵티마이저</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>학습률</translation>
    </message>
    <message>
        <source>Weight decay</source>
        <translation>가중치 감쇠</translation>
    </message>
    <message>
        <source>reduce on plateau</source>
        <translation>정체 시 감소</translation>
    </message>
    <message>
        <source>cosine</source>
        <translation>코사인</translation>
    </message>
    <message>
        <source>constant</source>
        <translation>고정</translation>
    </message>
    <message>
        <source>Schedule</source>
        <translation>학습률 스케줄</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>배치 크기</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>에포크</translation>
    </message>
    <message>
        <source>never stop early</source>
        <translation>조기 종료 안 함</translation>
    </message>
    <message>
        <source>Patience</source>
        <translation>조기 종료 인내</translation>
    </message>
    <message>
        <source>Class weights (inverse frequency)</source>
        <translation>클래스 가중치 (빈도의 역수)</translation>
    </message>
    <message>
        <source>Balanced sampler</source>
        <translation>균형 샘플러</translation>
    </message>
    <message>
        <source>Shortcut check (centres blanked)</source>
        <translation>지름길 검사 (중앙 가림)</translation>
    </message>
    <message>
        <source>Before training, train a small network for a few epochs on the images with their centre blanked: if it still reads the labels, they can be told from borders, markers, text or the source hospital rather than the anatomy</source>
        <translation>학습 전에 중앙을 가린 영상으로 작은 네트워크를 몇 에포크 학습합니다: 그래도 레이블을 맞힌다면 해부학적 구조가 아니라 가장자리, 마커, 글자, 출처 병원으로 레이블을 구별할 수 있다는 뜻입니다</translation>
    </message>
    <message>
        <source>Label smoothing</source>
        <translation>레이블 평활화</translation>
    </message>
    <message>
        <source>off (one-hot)</source>
        <translation>끔 (원-핫)</translation>
    </message>
    <message>
        <source> grades</source>
        <translation> 등급</translation>
    </message>
    <message>
        <source>Graded tasks only (e.g. KL grade): learn from Gaussian soft labels this many grades wide, so one grade off costs less than three</source>
        <translation>등급 작업 전용(예: KL 등급): 이 폭(등급 수)의 가우스 소프트 레이블로 학습하여 한 등급 차이가 세 등급 차이보다 손실이 작습니다</translation>
    </message>
    <message>
        <source>Ordinal soft labels</source>
        <translation>순서형 소프트 레이블</translation>
    </message>
    <message>
        <source>Softmax</source>
        <translation>Softmax</translation>
    </message>
    <message>
        <source>CORN (ordinal)</source>
        <translation>CORN (순서형)</translation>
    </message>
    <message>
        <source>Graded tasks only: a CORN head learns P(grade &gt; k) for each k, so the grades&apos; probabilities stay in rank order</source>
        <translation>등급 작업 전용: CORN 헤드는 각 k에 대해 P(등급 &gt; k)를 학습하므로 등급 확률이 순서를 유지합니다</translation>
    </message>
    <message>
        <source>Classifier head</source>
        <translation>분류기 헤드</translation>
    </message>
    <message>
        <source>Augmentation</source>
        <translation>데이터 증강</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>장치</translation>
    </message>
    <message>
        <source>Mixed precision</source>
        <translation>혼합 정밀도</translation>
    </message>
    <message>
        <source>all cores</source>
        <translation>모든 코어</translation>
    </message>
    <message>
        <source>LibTorch CPU threads (not used on a GPU)</source>
        <translation>LibTorch CPU 스레드 수 (GPU에서는 쓰지 않음)</translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation>CPU 스레드</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>시드</translation>
    </message>
    <message>
        <source>new folder under ~/lightbox-runs</source>
        <translation>~/lightbox-runs 아래 새 폴더</translation>
    </message>
    <message>
        <source>...</source>
        <translation>...</translation>
    </message>
    <message>
        <source>Run folder</source>
        <translation>학습 폴더</translation>
    </message>
    <message>
        <source>Train</source>
        <translation>학습</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>일시 정지</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>중지</translation>
    </message>
    <message>
        <source>Resume run...</source>
        <translation>학습 이어 하기...</translation>
    </message>
    <message>
        <source>Overlay run...</source>
        <translation>학습 곡선 겹쳐 보기...</translation>
    </message>
    <message>
        <source>Run folder to resume</source>
        <translation>이어 할 학습 폴더</translation>
    </message>
    <message>
        <source>Run folder to overlay</source>
        <translation>겹쳐 볼 학습 폴더</translation>
    </message>
    <message>
        <source>Epoch</source>
        <translation>에포크</translation>
    </message>
    <message>
        <source>Loss per epoch</source>
        <translation>에포크별 손실</translation>
    </message>
    <message>
        <source>Accuracy per epoch</source>
        <translation>에포크별 정확도</translation>
    </message>
    <message>
        <source>Batch loss (smoothed) and learning rate</source>
        <translation>배치 손실(평활)과 학습률</translation>
    </message>
    <message>
        <source>learning rate</source>
        <translation>학습률</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>손실</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>대기</translation>
    </message>
    <message>
        <source>Images per class and split</source>
        <translation>클래스·세트별 영상 수</translation>
    </message>
    <message>
        <source>No data set loaded yet: the data view fills when training starts.</source>
        <translation>아직 데이터셋을 불러오지 않았습니다: 학습을 시작하면 데이터 보기가 채워집니다.</translation>
    </message>
    <message>
        <source>The leakage check (duplicates and patients across splits) runs before training.</source>
        <translation>누출 검사(중복 영상과 세트 간 같은 환자)는 학습 전에 실행됩니다.</translation>
    </message>
    <message>
        <source>Leakage check</source>
        <translation>누출 검사</translation>
    </message>
    <message>
        <source>The shortcut check (a network trained on the borders alone, centres blanked) runs before training when it is ticked in the settings.</source>
        <translation>지름길 검사(중앙을 가리고 가장자리만으로 학습한 네트워크)는 설정에서 선택했을 때 학습 전에 실행됩니다.</translation>
    </message>
    <message>
        <source>Shortcut check</source>
        <translation>지름길 검사</translation>
    </message>
    <message>
        <source>Samples</source>
        <translation>표본 영상</translation>
    </message>
    <message>
        <source>Training images as stored, then augmented as in training</source>
        <translation>저장된 학습 영상과, 학습 때처럼 증강한 영상</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>학습 기록</translation>
    </message>
    <message>
        <source>Best epoch</source>
        <translation>최고 에포크</translation>
    </message>
    <message>
        <source>Best val acc</source>
        <translation>최고 검증 정확도</translation>
    </message>
    <message>
        <source>Val QWK</source>
        <translation>검증 QWK</translation>
    </message>
    <message>
        <source>Report</source>
        <translation>보고서</translation>
    </message>
    <message>
        <source>Report acc</source>
        <translation>보고서 정확도</translation>
    </message>
    <message>
        <source>Report QWK</source>
        <translation>보고서 QWK</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>새로 고침</translation>
    </message>
    <message>
        <source>Add run folder...</source>
        <translation>학습 폴더 추가...</translation>
    </message>
    <message>
        <source>Clear overlays</source>
        <translation>겹친 곡선 지우기</translation>
    </message>
    <message>
        <source>Double-click a run to overlay its curves.</source>
        <translation>학습 기록을 두 번 클릭하면 곡선을 겹쳐 봅니다.</translation>
    </message>
    <message>
        <source>Task chosen from the data set: %1.
%2</source>
        <translation>데이터셋에서 고른 작업: %1.
%2</translation>
    </message>
    <message>
        <source>Task %1 chosen because %2</source>
        <translation>작업 %1 선택 (이유: %2)</translation>
    </message>
    <message>
        <source>Classes: the data set&apos;s folder names or label values.</source>
        <translation>클래스: 데이터셋의 폴더 이름 또는 레이블 값.</translation>
    </message>
    <message>
        <source>Classes: %1%2
%3</source>
        <translation>클래스: %1%2
%3</translation>
    </message>
    <message>
        <source> (graded: QWK and MAE)</source>
        <translation> (등급형: QWK와 MAE)</translation>
    </message>
    <message>
        <source>Choose a data set folder or CSV first.</source>
        <translation>먼저 데이터셋 폴더나 CSV를 고르십시오.</translation>
    </message>
    <message>
        <source>The data set %1 does not exist.</source>
        <translation>데이터셋 %1이(가) 없습니다.</translation>
    </message>
    <message>
        <source>%1 already holds a run: resume it, or choose another run folder.</source>
        <translation>%1에 이미 학습 기록이 있습니다: 이어 하거나 다른 학습 폴더를 고르십시오.</translation>
    </message>
    <message>
        <source>The data set has images of fewer than two of the task&apos;s classes (none of %1).</source>
        <translation>데이터셋에 작업 클래스 중 두 개 이상의 영상이 없습니다 (%1 영상 없음).</translation>
    </message>
    <message>
        <source>Class without images</source>
        <translation>영상이 없는 클래스</translation>
    </message>
    <message>
        <source>The data set has no images of %1. A model cannot learn a class it never sees.</source>
        <translation>데이터셋에 %1 영상이 없습니다. 모델은 본 적 없는 클래스를 학습할 수 없습니다.</translation>
    </message>
    <message>
        <source>Train on the %1 classes that have images? The model card will say that the model does not cover %2.</source>
        <translation>영상이 있는 %1개 클래스로 학습할까요? 모델 카드에 이 모델이 %2을(를) 다루지 않는다고 기록됩니다.</translation>
    </message>
    <message>
        <source>Train on %1 classes</source>
        <translation>%1개 클래스로 학습</translation>
    </message>
    <message>
        <source>Starting</source>
        <translation>시작하는 중</translation>
    </message>
    <message>
        <source>Run folder %1</source>
        <translation>학습 폴더 %1</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>이어 하기</translation>
    </message>
    <message>
        <source>Paused (after the current batch)</source>
        <translation>일시 정지됨 (현재 배치 후)</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>학습 중</translation>
    </message>
    <message>
        <source>Stopping after the current batch; the last checkpoint is kept</source>
        <translation>현재 배치 후 중지합니다. 마지막 체크포인트는 유지됩니다</translation>
    </message>
    <message>
        <source>Not available here: needs a GPU, or a CPU with bfloat16 arithmetic (AVX-512 BF16 or AMX)</source>
        <translation>이 환경에서는 쓸 수 없습니다: GPU나 bfloat16 연산을 지원하는 CPU(AVX-512 BF16 또는 AMX)가 필요합니다</translation>
    </message>
    <message>
        <source>%1 autocast (weights stay float32): about twice as fast, results differ slightly from a float32 run</source>
        <translation>%1 autocast (가중치는 float32 유지): 약 두 배 빠르지만 결과가 float32 학습과 조금 다릅니다</translation>
    </message>
    <message>
        <source>train</source>
        <translation>학습</translation>
    </message>
    <message>
        <source>val</source>
        <translation>검증</translation>
    </message>
    <message>
        <source>test</source>
        <translation>시험</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>영상 수</translation>
    </message>
    <message>
        <source>%1: %2 images in %3 classes (%4); %5.</source>
        <translation>%1: 영상 %2장, 클래스 %3개 (%4); %5.</translation>
    </message>
    <message>
        <source>the data set&apos;s own splits (a missing val or test split is carved from train by patient)</source>
        <translation>데이터셋 자체의 세트 분할 (없는 검증·시험 세트는 학습 세트에서 환자 단위로 떼어 냄)</translation>
    </message>
    <message>
        <source>split 8:1:1, stratified and grouped by patient</source>
        <translation>8:1:1 분할, 층화 및 환자 단위 묶음</translation>
    </message>
    <message>
        <source>
Image size %1-%2 x %3-%4 px, mean %5 x %6 (%7 files measured).</source>
        <translation>
영상 크기 %1-%2 x %3-%4 px, 평균 %5 x %6 (파일 %7개 측정).</translation>
    </message>
    <message>
        <source>
%1 entries left out while listing, e.g. %2</source>
        <translation>
목록 작성 중 %1개 항목 제외 (예: %2)</translation>
    </message>
    <message>
        <source>
%1 file(s) could not be read for the check.</source>
        <translation>
검사에서 파일 %1개를 읽을 수 없었습니다.</translation>
    </message>
    <message>
        <source>

Images or patients shared between splits make validation and test scores look better than they are on new patients.</source>
        <translation>

세트 사이에 영상이나 환자가 겹치면 검증·시험 점수가 새 환자에서보다 좋아 보입니다.</translation>
    </message>
    <message>
        <source>
Probe trained on %1 images, centres blanked (%2 % of width and height).</source>
        <translation>
탐침 네트워크를 영상 %1장으로 학습 (너비와 높이의 %2 %를 중앙에서 가림).</translation>
    </message>
    <message>
        <source>
  %1: recall %2</source>
        <translation>
  %1: 민감도 %2</translation>
    </message>
    <message>
        <source>Epoch %1/%2, batch %3/%4 · loss %5 · %6 images/s · %7 left</source>
        <translation>에포크 %1/%2, 배치 %3/%4 · 손실 %5 · 초당 %6장 · 남은 시간 %7</translation>
    </message>
    <message>
        <source>Epoch %1: train loss %2, acc %3; val loss %4, acc %5</source>
        <translation>에포크 %1: 학습 손실 %2, 정확도 %3; 검증 손실 %4, 정확도 %5</translation>
    </message>
    <message>
        <source>, QWK %1</source>
        <translation>, QWK %1</translation>
    </message>
    <message>
        <source>; lr %1; %2 s, %3 images/s%4</source>
        <translation>; 학습률 %1; %2초, 초당 %3장%4</translation>
    </message>
    <message>
        <source> (best so far)</source>
        <translation> (현재 최고)</translation>
    </message>
    <message>
        <source>Stopped after %1 epoch(s). &quot;Resume run...&quot; continues from %2.</source>
        <translation>에포크 %1회 후 중지했습니다. &quot;학습 이어 하기...&quot;로 %2에서 계속합니다.</translation>
    </message>
    <message>
        <source>Stopped before the first epoch finished: nothing to resume.</source>
        <translation>첫 에포크가 끝나기 전에 중지했습니다: 이어 할 내용이 없습니다.</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>중지됨</translation>
    </message>
    <message>
        <source>Finished: %1 epoch(s)%2, best epoch %3 on %4.</source>
        <translation>완료: 에포크 %1회%2, 최고 에포크 %3 (%4).</translation>
    </message>
    <message>
        <source> (stopped early)</source>
        <translation> (조기 종료)</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>완료</translation>
    </message>
    <message>
        <source>Best epoch (%1) of %2, on its %3 split</source>
        <translation>%2의 최고 에포크(%1), %3 세트 평가</translation>
    </message>
    <message>
        <source>%1 unreadable sample(s) skipped, e.g. %2</source>
        <translation>읽을 수 없는 표본 %1개를 건너뜀 (예: %2)</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>실패</translation>
    </message>
    <message>
        <source>val QWK</source>
        <translation>검증 QWK</translation>
    </message>
    <message>
        <source>batch loss</source>
        <translation>배치 손실</translation>
    </message>
    <message>
        <source>smoothed</source>
        <translation>평활</translation>
    </message>
    <message>
        <source>Overlaid %1 (%2 epochs)</source>
        <translation>%1 겹쳐 보기 (에포크 %2회)</translation>
    </message>
    <message>
        <source> (resumable)</source>
        <translation> (이어 하기 가능)</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>오류: %1</translation>
    </message>
    <message>
        <source>%1 (augmented: %2)</source>
        <translation>%1 (증강: %2)</translation>
    </message>
    <message>
        <source>%1 train</source>
        <translation>%1 학습</translation>
    </message>
    <message>
        <source>%1 val</source>
        <translation>%1 검증</translation>
    </message>
    <message>
        <source>Wrote %1</source>
        <translation>%1 저장함</translation>
    </message>
    <message>
        <source>Evaluation on the %1 split: accuracy %2</source>
        <translation>%1 세트 평가: 정확도 %2</translation>
    </message>
    <message>
        <source> in %1 processes</source>
        <translation> (프로세스 %1개)</translation>
    </message>
    <message>
        <source>Data-parallel training in this many processes on this machine (c10d: Gloo on the CPU, NCCL on GPUs): each reads a share of every epoch, the batch size is per process, and CPU threads count per process</source>
        <translation>이 컴퓨터에서 이만큼의 프로세스로 데이터 병렬 학습을 합니다(c10d: CPU에서는 Gloo, GPU에서는 NCCL). 각 프로세스가 매 에폭의 일부를 읽으며, 배치 크기와 CPU 스레드 수는 프로세스마다 적용됩니다</translation>
    </message>
    <message>
        <source>Processes</source>
        <translation>프로세스 수</translation>
    </message>
</context>
</TS>
